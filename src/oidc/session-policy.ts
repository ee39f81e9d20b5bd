import { errors, interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';
import type { Catalog } from '../catalog/catalog.ts';
import type { ConnectorInfo } from '../connectors/connector.ts';
import type { Client } from '../model/client.ts';
import type { LockAccount } from './accounts.ts';

export interface SessionLimits {
  /** Seconds without use after which a session ends. */
  idleSeconds: number;
  /** Seconds after sign-in after which a session ends, however busy. */
  maxAgeSeconds: number;
  /**
   * Local accounts holding one of these roles need a second factor in their session
   * (LOCK_MFA_REQUIRED_ROLES): a session without one is asked to sign in again (step-up).
   */
  mfaRequiredRoles?: readonly string[];
  /**
   * Local accounts holding one of these roles need a passkey in their session
   * (LOCK_PASSKEY_REQUIRED_ROLES): a session without one is asked to sign in again.
   */
  passkeyRequiredRoles?: readonly string[];
}

/** What the step-up check looks up: a client's `requireMfa`, an account's connector type. */
export interface StepUpLookups {
  catalog: () => Catalog;
  connectors: () => ReadonlyMap<string, ConnectorInfo>;
}

/**
 * RFC 8176 values that say a sign-in had a second factor: Lock's TOTP (`otp`), an IdP's `mfa`, and
 * a passkey (`hwk`/`swk`): Lock requires user verification of every passkey, so a passkey alone is
 * something held and something known or been (docs/passkeys.md).
 */
const SECOND_FACTOR_AMR = ['otp', 'mfa', 'hwk', 'swk'];
/** RFC 8176 values that say a sign-in used a passkey (phishing-resistant: bound to Lock's origin). */
const PASSKEY_AMR = ['hwk', 'swk'];

const epoch = () => Math.floor(Date.now() / 1000);

/**
 * How long a session nobody has signed in to is kept: one that only holds a form's token (the
 * device page's, the logout prompt's), which any anonymous request can have Lock store. Ten
 * minutes, a device code's lifetime; a sign-in in it gives it the full lifetime.
 */
const ANONYMOUS_SESSION_SECONDS = 10 * 60;

/**
 * oidc-provider saves the session on every request that uses it: each save extends it by the idle
 * timeout, never past the maximum age counted from sign-in.
 */
export function sessionTtl(limits: SessionLimits) {
  return (_ctx: KoaContextWithOIDC, session: { loginTs?: number; accountId?: string }) => {
    if (!session.accountId) return Math.min(limits.idleSeconds, ANONYMOUS_SESSION_SECONDS);
    const loginTs = session.loginTs ?? epoch();
    const remaining = loginTs + limits.maxAgeSeconds - epoch();
    return Math.max(1, Math.min(limits.idleSeconds, remaining));
  };
}

/**
 * The login prompt, plus two checks: a session past its maximum age must sign in again, and so
 * must a session without the second factor that the client or the account's roles require.
 */
export function signInPolicy(limits: SessionLimits, stepUp: StepUpLookups) {
  const { Check, base } = interactionPolicy;
  const policy = base();
  const login = policy.get('login')!;
  login.checks.add(
    new Check('session_max_age', 'the session has reached its maximum age', (ctx) => {
      const loginTs = ctx.oidc.session?.loginTs;
      return loginTs !== undefined && epoch() - loginTs >= limits.maxAgeSeconds
        ? Check.REQUEST_PROMPT
        : Check.NO_NEED_TO_PROMPT;
    }),
  );
  // The session lacks what the client or account requires: prompt; if this very sign-in could not
  // give it, prompting again would loop, so refuse.
  for (const requirement of REQUIREMENTS)
    login.checks.add(
      new Check(
        requirement.check,
        `this client or account requires ${requirement.what}, which the session lacks`,
        'login_required',
        (ctx) => {
          if (!lacks(requirement, ctx, limits, stepUp)) return Check.NO_NEED_TO_PROMPT;
          if (ctx.oidc.result?.login)
            throw new errors.AccessDenied(
              `this client or account requires ${requirement.what}, ${requirement.refusal}`,
            );
          return Check.REQUEST_PROMPT;
        },
      ),
    );
  return policy;
}

/** What a session must have shown when its client asks for it or its account holds one of the roles. */
interface Requirement {
  /** The login prompt's check. */
  check: string;
  what: string;
  /** Why this very sign-in cannot satisfy it (asking again would loop). */
  refusal: string;
  requiredBy(client: Client): boolean;
  roles(limits: SessionLimits): readonly string[] | undefined;
  /** The RFC 8176 methods that satisfy it. */
  amr: readonly string[];
}

const REQUIREMENTS: readonly Requirement[] = [
  {
    check: 'second_factor_required',
    what: 'a second factor',
    refusal: 'which this sign-in could not give',
    requiredBy: (client) => client.requireMfa,
    roles: (limits) => limits.mfaRequiredRoles,
    amr: SECOND_FACTOR_AMR,
  },
  {
    check: 'passkey_required',
    what: 'a passkey',
    refusal: 'which this sign-in did not use',
    requiredBy: (client) => client.requirePasskey,
    roles: (limits) => limits.passkeyRequiredRoles,
    amr: PASSKEY_AMR,
  },
];

/**
 * True when the session's account must show `requirement` here and its sign-in did not. Only
 * Lock's own accounts are asked (TOTP, docs/totp.md; passkeys, docs/passkeys.md); a directory's or
 * an IdP's accounts bring whatever their upstream checked, as before.
 */
function lacks(
  requirement: Requirement,
  ctx: KoaContextWithOIDC,
  limits: SessionLimits,
  stepUp: StepUpLookups,
): boolean {
  const local = localSession(ctx, stepUp);
  if (!local) return false;
  const client = stepUp.catalog().clients.get(local.clientId);
  const roles = requirement.roles(limits);
  const required =
    (client !== undefined && requirement.requiredBy(client)) ||
    local.account.roles.some((role) => roles?.includes(role));
  return required && !local.amr.some((method) => requirement.amr.includes(method));
}

/** The session's account, client and methods when the account is one of Lock's own (local). */
function localSession(ctx: KoaContextWithOIDC, stepUp: StepUpLookups) {
  const session = ctx.oidc.session;
  // loadAccount ran before the checks: this is findLockAccount's answer for the session's sub.
  const account = ctx.oidc.account as LockAccount | undefined;
  if (!session?.accountId || !account || !ctx.oidc.client) return undefined;
  if (stepUp.connectors().get(account.identity.connector)?.type !== 'local') return undefined;
  return { account, clientId: ctx.oidc.client.clientId, amr: session.amr ?? [] };
}
