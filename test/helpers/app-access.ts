// An application signed in to for offline access to the API, as /account's "Apps with access" and
// the admin API list them: a sign-in through Lock's pages (consent answered when asked) and the
// refresh token it holds.
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { API, CALLBACK, WEB_SECRET } from './login-fixtures.ts';
import { redeem, startAuthorization } from './relying-party.ts';
import { readLoginForm, UserAgent } from './user-agent.ts';

export const PARTNER_CALLBACK = 'https://partner.example.com/cb';

export interface SignedInApp {
  /** Whether Lock asked for consent (partner-app is not first-party; web-app is). */
  consentAsked: boolean;
  refreshToken: string;
  config: oidc.Configuration;
}

/** `username` signs in to `client` (loginConfig's) for offline access to the API's `read` scope. */
export async function signInForOffline(
  issuer: string,
  client: 'partner-app' | 'web-app',
  username: string,
  password: string,
): Promise<SignedInApp> {
  const request = await startAuthorization(
    issuer,
    { id: client, secret: WEB_SECRET },
    {
      redirect_uri: client === 'web-app' ? CALLBACK : PARTNER_CALLBACK,
      scope: 'openid profile offline_access read',
      resource: API,
      prompt: 'consent',
    },
  );
  const agent = new UserAgent(issuer);
  const page = await agent.follow(request.url.toString());
  const form = readLoginForm(await page.response.text());
  let step = await agent.follow(new URL(form.action, page.url).toString(), {
    form: { csrf: form.csrf, username, password },
  });
  const consentPage = step.left ? '' : await step.response.text();
  const consentAsked = /Allow access\?/.test(consentPage);
  if (consentAsked) {
    const allow =
      /<form method="post" action="([^"]+)">\s*<input type="hidden" name="csrf" value="([^"]+)">\s*<button[^>]*>Allow</.exec(
        consentPage,
      )!;
    step = await agent.follow(new URL(allow[1]!, step.url).toString(), { form: { csrf: allow[2]! } });
  }
  assert.ok(step.left?.includes('code='), `landed on ${step.left}`);
  const tokens = await redeem(request, new URL(step.left!));
  return { consentAsked, refreshToken: tokens.refresh_token!, config: request.config };
}

/** Refreshes the app's token (keeping the rotated one): true, or the OAuth error it got. */
export function refreshes(app: SignedInApp): Promise<true | string> {
  return oidc
    .refreshTokenGrant(app.config, app.refreshToken, { resource: API })
    .then((tokens): true => {
      app.refreshToken = tokens.refresh_token!;
      return true;
    })
    .catch((error: oidc.ResponseBodyError) => error.error);
}
