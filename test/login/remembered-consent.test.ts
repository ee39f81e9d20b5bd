import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import * as oidc from 'openid-client';
import { CLI_ACTOR } from '../../src/admin/admin-actor.ts';
import { endAccountSessionsById } from '../../src/admin/users.ts';
import { findUserByUsername } from '../../src/store/users.ts';
import { type RunningLock, startLock } from '../helpers/lock.ts';
import { ALICE_PASSWORD, API, loginConfig, WEB_SECRET } from '../helpers/login-fixtures.ts';
import { redeem, startAuthorization } from '../helpers/relying-party.ts';
import { readLoginForm, UserAgent } from '../helpers/user-agent.ts';

const PARTNER_CALLBACK = 'https://partner.example.com/cb';

/**
 * partner-app is not first-party: its users see a consent page. What they consented to is
 * remembered across sign-outs (oidc-provider's grant ends with the session), asked again only for
 * more, and withdrawn when an admin ends their sessions.
 */
describe('consent is remembered per account and client across sign-outs', () => {
  let lock: RunningLock;

  before(async () => {
    lock = await startLock({ config: loginConfig });
  });
  after(async () => {
    await lock.close();
    await lock.database.drop();
  });

  /** Signs alice in to partner-app in `agent`; reports whether a consent page came, and the tokens. */
  async function signInToPartner(agent: UserAgent, scope: string) {
    const request = await startAuthorization(
      lock.issuer,
      { id: 'partner-app', secret: WEB_SECRET },
      { redirect_uri: PARTNER_CALLBACK, scope, resource: API },
    );
    const page = await agent.follow(request.url.toString());
    const form = readLoginForm(await page.response.text());
    let step = await agent.follow(new URL(form.action, page.url).toString(), {
      form: { csrf: form.csrf, username: 'alice', password: ALICE_PASSWORD },
    });
    let consentPage: string | undefined;
    if (!step.left) {
      consentPage = await step.response.text();
      assert.match(consentPage, /Allow access\?/, 'either the client or the consent page');
      const allow =
        /<form method="post" action="([^"]+)">\s*<input type="hidden" name="csrf" value="([^"]+)">\s*<button[^>]*>Allow</.exec(
          consentPage,
        )!;
      step = await agent.follow(new URL(allow[1]!, step.url).toString(), { form: { csrf: allow[2]! } });
    }
    assert.ok(step.left?.startsWith(`${PARTNER_CALLBACK}?code=`), `landed on ${step.left}`);
    const tokens = await redeem(request, new URL(step.left!));
    return { consentPage, tokens, config: request.config };
  }

  /** RP-initiated logout, as the browser does it: the confirmation page, then "Sign out". */
  async function signOut(agent: UserAgent, config: oidc.Configuration, idToken: string) {
    const confirm = await agent.follow(
      oidc.buildEndSessionUrl(config, { id_token_hint: idToken }).toString(),
    );
    const page = await confirm.response.text();
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(page)![1]!;
    const action = /<form[^>]*action="([^"]+)"/.exec(page)![1]!.replaceAll('&amp;', '&');
    const done = await agent.follow(new URL(action, lock.issuer).toString(), {
      form: { xsrf, logout: 'yes' },
    });
    assert.equal(done.response.status, 200);
    assert.equal(agent.hasCookie('_session'), false, 'the session at Lock has ended');
  }

  it('sign in and consent, sign out, sign in again: no consent page; more scopes ask again; end sessions withdraws it', async () => {
    const agent = new UserAgent(lock.issuer);
    const first = await signInToPartner(agent, 'openid read');
    assert.ok(first.consentPage, 'the first sign-in asks for consent');
    assert.equal(decodeJwt(first.tokens.access_token).scope, 'read');
    await signOut(agent, first.config, first.tokens.id_token!);

    const second = await signInToPartner(agent, 'openid read');
    assert.equal(second.consentPage, undefined, 'consent given before is not asked again');
    assert.equal(decodeJwt(second.tokens.access_token).scope, 'read');
    await signOut(agent, second.config, second.tokens.id_token!);

    const wider = await signInToPartner(agent, 'openid email read write');
    assert.ok(wider.consentPage, 'more scopes than consented to ask again');
    assert.match(wider.consentPage!, /write/);
    assert.equal(decodeJwt(wider.tokens.access_token).scope, 'read write');
    assert.equal(wider.tokens.claims()!.email, 'alice@example.com');
    await signOut(agent, wider.config, wider.tokens.id_token!);

    const narrower = await signInToPartner(new UserAgent(lock.issuer), 'openid email write');
    assert.equal(narrower.consentPage, undefined, 'what was consented to, in another browser too');

    const alice = (await findUserByUsername(lock.database.pool, 'alice'))!;
    await endAccountSessionsById(lock.database.pool, alice.id, CLI_ACTOR);
    const afterEnd = await signInToPartner(new UserAgent(lock.issuer), 'openid read');
    assert.ok(afterEnd.consentPage, 'an admin ending the sessions withdraws the consent');
  });
});
