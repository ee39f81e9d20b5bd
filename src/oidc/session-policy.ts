import { interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';

export interface SessionLimits {
  /** Seconds without use after which a session ends. */
  idleSeconds: number;
  /** Seconds after sign-in after which a session ends, however busy. */
  maxAgeSeconds: number;
}

const epoch = () => Math.floor(Date.now() / 1000);

/**
 * oidc-provider saves the session on every request that uses it: each save extends it by the idle
 * timeout, never past the maximum age counted from sign-in.
 */
export function sessionTtl(limits: SessionLimits) {
  return (_ctx: KoaContextWithOIDC, session: { loginTs?: number }) => {
    const loginTs = session.loginTs ?? epoch();
    const remaining = loginTs + limits.maxAgeSeconds - epoch();
    return Math.max(1, Math.min(limits.idleSeconds, remaining));
  };
}

/** The login prompt, plus one check: a session past its maximum age must sign in again. */
export function interactionPolicyWithMaxAge(limits: SessionLimits) {
  const { Check, base } = interactionPolicy;
  const policy = base();
  policy.get('login')!.checks.add(
    new Check('session_max_age', 'the session has reached its maximum age', (ctx) => {
      const loginTs = ctx.oidc.session?.loginTs;
      return loginTs !== undefined && epoch() - loginTs >= limits.maxAgeSeconds
        ? Check.REQUEST_PROMPT
        : Check.NO_NEED_TO_PROMPT;
    }),
  );
  return policy;
}
