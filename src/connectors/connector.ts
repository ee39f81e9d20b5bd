import type { z } from 'zod';
import type { Logger } from '../observability/logger.ts';
import type { SecretBox } from '../security/secret-box.ts';
import type { Queryable } from '../store/pool.ts';

/**
 * What every connector offers Lock, Dex-style: one small interface per capability. A wrong password
 * is a value, not an error; errors mean the upstream failed.
 */

import type { UpstreamIdentity } from '../model/upstream-identity.ts';

export type { UpstreamIdentity };

export type PasswordLoginResult =
  | { outcome: 'authenticated'; identity: UpstreamIdentity }
  /** The connector knows nobody by this name: the next password connector may. */
  | { outcome: 'unknown-user' }
  /** The connector knows the user and the password is wrong: the login ends here. */
  | { outcome: 'invalid-credentials' }
  /**
   * Right password, but the account may not sign in; `message` is safe to show to that user: a key
   * of the message catalogue (views/locales/en.json, `login.errors.*`), shown in the page's language.
   */
  | { outcome: 'refused'; reason: string; message: string }
  /** The connector found the account, but its attempt was not admitted: the password was not checked. */
  | { outcome: 'locked-out' };

/**
 * What Lock hands a password connector for one sign-in attempt. The connector resolves the account
 * first, then asks `admit` before it checks the password against that account, so that every alias
 * of one account draws on one budget and no guess is checked past it.
 */
export interface PasswordAttempt {
  /**
   * Reserves this attempt on the resolved account (`upstreamId` as in UpstreamIdentity; `username`
   * the account's own name). False: check nothing and answer `locked-out`.
   */
  admit(account: { upstreamId: string; username: string }): Promise<boolean>;
  /**
   * Checks a password against an argon2 hash the connector keeps, within Lock's bound on concurrent
   * verifies; Lock counts it as the attempt's one verify (a failure that made none pays a dummy one).
   */
  verifyPassword(storedHash: string, password: string): Promise<{ valid: boolean; needsRehash: boolean }>;
}

export interface ConnectorInfo {
  id: string;
  type: string;
  name: string;
}

export interface PasswordConnector extends ConnectorInfo {
  /** Without `attempt` (tests, tools) every account is admitted and verifies are not bounded. */
  login(username: string, password: string, attempt?: PasswordAttempt): Promise<PasswordLoginResult>;
}

/** Connectors that can look the user up again when a refresh token is used. */
export interface RefreshConnector {
  /** The identity as it is now, or undefined when the user is gone or may no longer sign in. */
  refresh(identity: UpstreamIdentity): Promise<UpstreamIdentity | undefined>;
}

export const isPasswordConnector = (connector: ConnectorInfo): connector is PasswordConnector =>
  typeof (connector as Partial<PasswordConnector>).login === 'function';

export const isRefreshConnector = (connector: object): connector is RefreshConnector =>
  typeof (connector as Partial<RefreshConnector>).refresh === 'function';

/** How a connector's upstream looks from the admin's "Test connection": each step, in order. */
export interface ConnectionTestReport {
  ok: boolean;
  /** The server that answered, when one did. */
  url?: string;
  /** The steps in order, up to and including the first that failed. */
  steps: Array<{ step: string; ok: boolean; detail: string; durationMs: number }>;
}

/** Connectors that can try their upstream step by step (the admin API's connection test). */
export interface TestableConnector {
  testConnection(options: { username?: string }): Promise<ConnectionTestReport>;
}

export const isTestableConnector = (connector: object): connector is TestableConnector =>
  typeof (connector as Partial<TestableConnector>).testConnection === 'function';

/** A sign-in at the upstream, as the connector hands it back (to record and finish the interaction). */
export interface UpstreamLogin {
  identity: UpstreamIdentity;
  /** The upstream's authentication context (SAML AuthnContextClassRef, OIDC acr). */
  authnContextClassRef?: string;
  /** How the user authenticated, as RFC 8176 values, where the upstream's context says it clearly. */
  amr?: string[];
  /** When the upstream authenticated the user, epoch seconds: the login's `auth_time`. */
  authTime?: number;
}

/** Why an upstream refused to sign the user in, by what the user can do about it. */
export type UpstreamRefusal = 'authn-failed' | 'denied' | 'unsupported-context' | 'failed';

/**
 * What a redirect connector made of its upstream's answer at the callback. Values, not errors: an
 * UpstreamError (the upstream unusable) is what is thrown.
 */
export type CallbackOutcome =
  /** A valid login for a sign-in this connector started: the browser completes it (`complete`). */
  | { kind: 'answered'; interactionUid: string; requestId: string }
  /** Nothing to check (the answer's parameter is missing): no audit. */
  | { kind: 'malformed' }
  /**
   * The answer is not accepted; `reason` is for the admin (audit), never the user. `bulk` names a
   * cheap check anyone can fail in bulk: such refusals are audited in aggregate, by that name.
   */
  | { kind: 'rejected'; reason: string; bulk?: string }
  /** Lock had no capacity to check it now: try again shortly (audited in aggregate, as `bulk`). */
  | { kind: 'busy'; reason: string; bulk: string }
  /** The upstream answered with an error of its own; `reason` describes it for the audit. */
  | { kind: 'upstream-refused'; refusal: UpstreamRefusal; reason: string }
  /** A valid login nobody here asked for (IdP-initiated), for the client `clientId`: see UnsolicitedLoginConnector. */
  | UnsolicitedLogin;

/**
 * How the upstream's answer comes back to Lock: a route of the connector's type. Types may share
 * one (oidc and oauth2 both answer at `/sso/:connector/callback`): the route is mounted once and
 * the connector id in the path says whose `receive` checks the answer.
 */
export interface CallbackRoute {
  method: 'get' | 'post';
  /** The path, with `:connector` for the connector's id. */
  path: string;
  /** The most bytes a POSTed form may have. */
  formLimit?: number;
}

/**
 * Sign-in by sending the browser to the upstream (SAML, upstream OIDC): `start` says where to, the
 * upstream's answer reaches the type's `callbackRoute`, which `receive` checks; the browser then
 * comes back to Lock with its cookies, and `complete` hands the login over once, to the browser
 * that started it.
 */
export interface RedirectConnector extends ConnectorInfo {
  /** Where to send the browser; `browserBinding` goes into a cookie that `complete` needs. */
  start(request: {
    interactionUid: string;
    /** The client asked for a fresh login (prompt=login, max_age): so must the upstream. */
    forceAuthn: boolean;
    /** The client's max_age, which the upstream's authentication time must meet. */
    maxAgeSeconds?: number | undefined;
  }): Promise<{ redirectUrl: string; browserBinding: string }>;
  /** The upstream's answer, as the callback route's query or form parameters. */
  receive(params: URLSearchParams): Promise<CallbackOutcome>;
  /** The login `receive` stored for this request, once, for the browser with the binding cookie. */
  complete(request: {
    requestId: string;
    interactionUid: string;
    browserBinding: string;
  }): Promise<UpstreamLogin | undefined>;
}

export const isRedirectConnector = (connector: ConnectorInfo | undefined): connector is RedirectConnector =>
  typeof (connector as Partial<RedirectConnector> | undefined)?.receive === 'function';

/** A valid upstream login Lock did not ask for, accepted for one client; not held yet. */
export interface UnsolicitedLogin {
  kind: 'unsolicited';
  clientId: string;
  login: UpstreamLogin;
  /** Where the client is to send the user after the login (OIDC Core §4 `target_link_uri`). */
  targetLinkUri?: string;
}

/**
 * Redirect connectors that accept logins the upstream starts (SAML IdP-initiated): held for the
 * browser that brought them until its client's own authorization request takes them.
 */
export interface UnsolicitedLoginConnector extends RedirectConnector {
  /** Whether logins the upstream starts are taken into this client's authorization requests. */
  acceptsUnsolicitedFor(clientId: string): boolean;
  /** Keeps the login for the browser (`browserBinding` into a cookie); `redirectUrl`: the client's login initiation. */
  holdUnsolicited(
    login: UnsolicitedLogin,
  ): Promise<{ browserBinding: string; redirectUrl: string; maxAgeMs: number }>;
  /** The login held for this browser and client, once; else undefined. */
  takeUnsolicited(request: { browserBinding: string; clientId: string }): Promise<UpstreamLogin | undefined>;
}

export const isUnsolicitedLoginConnector = (
  connector: ConnectorInfo | undefined,
): connector is UnsolicitedLoginConnector =>
  isRedirectConnector(connector) &&
  typeof (connector as Partial<UnsolicitedLoginConnector>).takeUnsolicited === 'function';

/** Connectors that publish metadata about Lock for their upstream's admin (SAML SP metadata). */
export interface MetadataConnector {
  metadata(): { contentType: string; body: string };
}

export const isMetadataConnector = (connector: object | undefined): connector is MetadataConnector =>
  typeof (connector as Partial<MetadataConnector> | undefined)?.metadata === 'function';

/** What a connector type's `create` is handed besides its own stored row. */
export interface ConnectorContext {
  db: Queryable;
  log: Logger;
  /** Lock's issuer URL: connectors with endpoints of their own (SAML) build them on it. */
  issuer: string;
  now: () => Date;
  /** Seals what the connector keeps of its upstream at rest (upstream refresh tokens). */
  box: SecretBox;
  /** This connector's calls to its upstream, for metrics. */
  observeUpstream?: UpstreamObserver;
}

/**
 * A connector type, self-described: `connectors/<type>/index.ts` exports one, and the registry's
 * list (`connectors/registry.ts`) is all that knows them. Nothing outside the folder branches on the type.
 */
export interface ConnectorTypeModule<Type extends string = string, Schema extends z.ZodType = z.ZodType> {
  type: Type;
  /** `connectors[].config` of this type: the declarative file, the admin API and the CLI parse with it. */
  configSchema: Schema;
  /**
   * Loads what `create` needs that is heavy (XML, LDAP, OpenID client libraries): a type's code is
   * loaded only once a connector of that type exists. Idempotent; the registry awaits it first.
   */
  load?(): Promise<void>;
  /**
   * Builds a connector from its row; `config` arrives with its secrets opened, as stored (parse it).
   * Only after `load()` resolved (buildConnectors sees to it).
   */
  create(
    stored: { id: string; name: string; config: Record<string, unknown> },
    context: ConnectorContext,
  ): ConnectorInfo;
  /**
   * The config members that say which upstream a connector talks to and how it trusts it
   * (`target`), and the secrets it sends there (`secrets`). A stored secret is only ever reused for
   * the upstream it was saved for: a change to any `target` member needs each of `secrets` again.
   * (Which members are secrets at all — sealed at rest, write-only — is connector-secrets.ts's rule.)
   */
  upstreamSecrets: { target: string[]; secrets: string[] };
  /** Claim names this connector adds from upstream attributes (oidc-provider emits only those it was told of). */
  claimNames?(config: Record<string, unknown>): string[];
  /** A sign-in by redirect: the route the upstream answers at, and where Lock's metadata for it is served. */
  redirect?: { callbackRoute: CallbackRoute; metadataPath?: string };
  /**
   * Points a stored config at new upstream metadata (admin API `…/idp-metadata`): the input schema
   * and the config with it (checked and test-connected by the admin API like any save).
   */
  metadataImport?: {
    schema: z.ZodType<{ url?: string | undefined; xml?: string | undefined }>;
    configWith(
      config: Record<string, unknown>,
      source: { url?: string | undefined; xml?: string | undefined },
    ): Record<string, unknown>;
  };
}

/** What a connector is built from: its stored row (config with its secrets opened) and the context. */
export type ConnectorOptions = {
  id: string;
  name: string;
  config: Record<string, unknown>;
} & ConnectorContext;

/**
 * `load` and `create` for a type whose code is heavy (XML, LDAP, OpenID client libraries): its
 * module is imported the first time a connector of the type is built, never before, and `build`
 * makes the connector from that module. Creating before loading is a programming error.
 */
export function loadedOnDemand<Module>(
  type: string,
  importModule: () => Promise<Module>,
  build: (module: Module, options: ConnectorOptions) => ConnectorInfo,
): Required<Pick<ConnectorTypeModule, 'load' | 'create'>> {
  let loaded: Module | undefined;
  return {
    load: async () => {
      loaded ??= await importModule();
    },
    create: (stored, context) => {
      if (loaded === undefined)
        throw new Error(
          `connector type ${type}: create() before load() (use the registry's buildConnectors)`,
        );
      return build(loaded, { ...stored, ...context });
    },
  };
}

/** The upstream failed (unreachable, timed out, misconfigured): not the user's fault. */
export class UpstreamError extends Error {
  override name = 'UpstreamError';
}

/** Told how long each call to an upstream took and whether it failed (for metrics). */
export type UpstreamObserver = (operation: string, outcome: 'ok' | 'error', seconds: number) => void;

/** Times `work` for the observer; an UpstreamError (or any throw) counts as `error`. */
export async function observed<T>(
  observe: UpstreamObserver | undefined,
  operation: string,
  work: () => Promise<T>,
): Promise<T> {
  const started = performance.now();
  try {
    const result = await work();
    observe?.(operation, 'ok', (performance.now() - started) / 1000);
    return result;
  } catch (error) {
    observe?.(operation, 'error', (performance.now() - started) / 1000);
    throw error;
  }
}
