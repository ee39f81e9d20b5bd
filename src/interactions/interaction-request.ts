import type Provider from 'oidc-provider';
import type { SignInRequest } from '../login/sign-in-request.ts';

/** oidc-provider's view of the interaction a request belongs to. */
export type Details = Awaited<ReturnType<Provider['interactionDetails']>>;

/** What a Koa context of Lock says about its request (structurally, so no HTTP module is imported). */
interface RequestFacts {
  ip: string;
  get(field: string): string;
  state: { requestId: string };
}

/** The sign-in this request belongs to, as plain values for the login library. */
export function signInRequest(ctx: RequestFacts, found: Details): SignInRequest {
  return {
    interaction: found.uid,
    clientId: String(found.params.client_id),
    ip: ctx.ip,
    userAgent: ctx.get('user-agent'),
    requestId: ctx.state.requestId,
  };
}
