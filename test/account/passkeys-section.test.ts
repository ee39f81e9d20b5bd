import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type RunningLock, startLock } from '../helpers/lock.ts';
import { ALICE_PASSWORD, BOB_PASSWORD, loginConfig, signIn } from '../helpers/login-fixtures.ts';
import { UserAgent } from '../helpers/user-agent.ts';
import { SoftwareAuthenticator } from '../helpers/webauthn.ts';

// The "Passkeys" section of /account over real HTTP, with a software authenticator.
describe('/account: passkeys', () => {
  let lock: RunningLock;
  let clockOffset = 0;
  before(async () => {
    lock = await startLock({ config: loginConfig, now: () => new Date(Date.now() + clockOffset) });
  });
  after(async () => {
    await lock.close();
    await lock.database.drop();
  });

  const url = (path: string) => new URL(path, lock.issuer).toString();

  async function signedIn(username: string, password: string) {
    const agent = new UserAgent(lock.issuer);
    const overview = await signIn(agent, url('/account'), username, password);
    assert.match(overview.html, /<h1>Your account<\/h1>/);
    return { agent, overview: overview.html };
  }

  /** The add page's endpoints and CSRF token. */
  async function addPage(agent: UserAgent) {
    const page = await agent.request(url('/account/passkeys/add'));
    assert.equal(page.status, 200);
    const html = await page.text();
    const attribute = (name: string) => new RegExp(`data-${name}="([^"]+)"`).exec(html)?.[1];
    return {
      csp: page.headers.get('content-security-policy')!,
      html,
      optionsUrl: attribute('options-url')!,
      registerUrl: attribute('register-url')!,
      csrf: attribute('csrf')!,
    };
  }

  async function call(agent: UserAgent, path: string, json: unknown) {
    const response = await agent.request(url(path), { json });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  const overviewOf = async (agent: UserAgent) => (await agent.follow(url('/account'))).response.text();

  const audited = async (type: string) =>
    (
      await lock.database.pool.query<{ outcome: string; subject: string; reason: string | null }>(
        'SELECT outcome, subject, reason FROM audit_events WHERE type = $1 ORDER BY id',
        [type],
      )
    ).rows;

  let alice: Awaited<ReturnType<typeof signedIn>>;
  const authenticator = () => new SoftwareAuthenticator(new URL(lock.issuer).origin);

  it('adds a named passkey: discoverable, user verification required, attestation none; audited', async () => {
    alice = await signedIn('alice', ALICE_PASSWORD);
    assert.match(alice.overview, /id="passkeys"/);
    assert.match(alice.overview, /You have no passkeys yet/);
    const page = await addPage(alice.agent);
    assert.match(page.csp, /script-src 'self'/);
    assert.doesNotMatch(page.html, /<script>/);
    const options = await call(alice.agent, page.optionsUrl, { csrf: page.csrf });
    assert.equal(options.status, 200);
    assert.deepEqual(options.body.authenticatorSelection, {
      residentKey: 'required',
      userVerification: 'required',
      requireResidentKey: true,
    });
    assert.equal(options.body.attestation, 'none');
    const response = authenticator().register(options.body as never);
    const added = await call(alice.agent, page.registerUrl, { csrf: page.csrf, name: 'Phone', response });
    assert.equal(added.status, 200, JSON.stringify(added.body));
    assert.match(String(added.body.location), /done=passkeys\.added/);
    const overview = await overviewOf(alice.agent);
    assert.match(overview, /<strong>Phone<\/strong>/);
    assert.deepEqual(
      (await audited('account.passkey.added')).map((row) => [row.outcome, row.subject]),
      [['success', 'alice']],
    );
  });

  it('refuses a registration answered for another page session, for another origin, or with a forged CSRF token', async () => {
    const bob = await signedIn('bob', BOB_PASSWORD);
    const bobPage = await addPage(bob.agent);
    const alicePage = await addPage(alice.agent);
    // alice's options, answered, sent by bob: the challenge belongs to alice's page session.
    const options = await call(alice.agent, alicePage.optionsUrl, { csrf: alicePage.csrf });
    const response = authenticator().register(options.body as never);
    const stolen = await call(bob.agent, bobPage.registerUrl, { csrf: bobPage.csrf, name: 'x', response });
    assert.equal(stolen.status, 400);
    // Another origin.
    const fresh = await call(alice.agent, alicePage.optionsUrl, { csrf: alicePage.csrf });
    const phished = authenticator().register(fresh.body as never, { origin: 'https://evil.example' });
    const refused = await call(alice.agent, alicePage.registerUrl, {
      csrf: alicePage.csrf,
      name: 'x',
      response: phished,
    });
    assert.equal(refused.status, 400);
    const forged = await call(alice.agent, alicePage.optionsUrl, { csrf: bobPage.csrf });
    assert.equal(forged.status, 403);
    const reasons = (await audited('account.passkey.added'))
      .filter((row) => row.outcome === 'failure')
      .map((row) => row.reason ?? '');
    assert.ok(reasons.includes('unknown, spent or expired challenge'), reasons.join('; '));
    assert.ok(
      reasons.some((reason) => /origin/.test(reason)),
      reasons.join('; '),
    );
    // Neither reached anyone's list.
    assert.doesNotMatch(await overviewOf(bob.agent), /<strong>x<\/strong>/);
  });

  it("renames and removes only the person's own passkeys", async () => {
    const overview = await overviewOf(alice.agent);
    const id = /name="passkey" value="([^"]+)"/.exec(overview)![1]!;
    const csrf = /name="csrf" value="([^"]+)"/.exec(overview)![1]!;
    const bob = await signedIn('bob', BOB_PASSWORD);
    const bobCsrf = /name="csrf" value="([^"]+)"/.exec(bob.overview)![1]!;
    const removedByBob = await bob.agent.follow(url('/account/passkeys/remove'), {
      form: { csrf: bobCsrf, passkey: id },
    });
    assert.match(removedByBob.url!, /done=passkeys\.none/);
    assert.match(await overviewOf(alice.agent), /<strong>Phone<\/strong>/);

    const renamed = await alice.agent.follow(url('/account/passkeys/rename'), {
      form: { csrf, passkey: id, name: 'Work phone' },
    });
    assert.match(renamed.url!, /done=passkeys\.renamed/);
    assert.match(await overviewOf(alice.agent), /<strong>Work phone<\/strong>/);
    assert.equal((await audited('account.passkey.renamed')).length, 1);
  });

  it('asks for a recent sign-in before any change', async () => {
    const overview = await overviewOf(alice.agent);
    const id = /name="passkey" value="([^"]+)"/.exec(overview)![1]!;
    const csrf = /name="csrf" value="([^"]+)"/.exec(overview)![1]!;
    const page = await addPage(alice.agent);
    clockOffset = 6 * 60_000; // past LOCK_ACCOUNT_REAUTH_SECONDS (300)
    try {
      const remove = await alice.agent.request(url('/account/passkeys/remove'), {
        form: { csrf, passkey: id },
      });
      assert.equal(remove.status, 303);
      assert.match(remove.headers.get('location')!, /\/auth\?.*prompt=login/);
      const options = await call(alice.agent, page.optionsUrl, { csrf: page.csrf });
      assert.equal(options.status, 401);
      assert.equal(options.body.location, '/account/passkeys/add');
      const add = await alice.agent.request(url('/account/passkeys/add'));
      assert.equal(add.status, 303);
    } finally {
      clockOffset = 0;
    }
    assert.match(await overviewOf(alice.agent), /<strong>Work phone<\/strong>/, 'nothing was removed');
    const removed = await alice.agent.follow(url('/account/passkeys/remove'), {
      form: { csrf, passkey: id },
    });
    assert.match(removed.url!, /done=passkeys\.removed/);
    assert.equal((await audited('account.passkey.removed')).length, 1);
  });
});
