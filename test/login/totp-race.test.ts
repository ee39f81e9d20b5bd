import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { generateTotpSecret, matchingTotpSteps, totpSecretContext } from '../../src/security/totp.ts';
import { insertTotpCredential } from '../../src/store/totp.ts';
import { countAuditedAttempts } from '../helpers/audit.ts';
import { type RunningLock, startLock } from '../helpers/lock.ts';
import { ALICE_PASSWORD, loginConfig } from '../helpers/login-fixtures.ts';
import { postOnce } from '../helpers/sign-in-attempts.ts';
import { readLoginForm, UserAgent } from '../helpers/user-agent.ts';

describe('second-factor codes under concurrent guessing', () => {
  let lock: RunningLock;
  let secret: string;

  before(async () => {
    lock = await startLock({ config: loginConfig });
    // Alice has an authenticator app: every sign-in of hers asks for a code after the password.
    secret = generateTotpSecret();
    const { rows } = await lock.database.pool.query("SELECT id FROM users WHERE username = 'alice'");
    const userId = rows[0].id as string;
    await insertTotpCredential(lock.database.pool, {
      userId,
      secretSealed: lock.lock.box.seal(secret, totpSecretContext(userId)),
      lastUsedStep: 0,
      confirmedAt: new Date(),
    });
  });
  after(async () => {
    await lock.close();
    await lock.database.drop();
  });

  /** A sign-in of alice past her password, at the code page; returns how to post one code. */
  const atCodePage = async () => {
    const agent = new UserAgent(lock.issuer);
    const login = await pastPassword(agent);
    const { action, csrf } = readLoginForm(login.html);
    return async (code: string) => {
      const next = await agent.follow(new URL(action, login.url).toString(), { form: { csrf, code } });
      return { status: next.response.status, html: next.left ? '' : await next.response.text() };
    };
  };
  const pastPassword = async (agent: UserAgent) => {
    const url = new URL(`${lock.issuer}/auth`);
    url.search = new URLSearchParams({
      client_id: 'web-app',
      response_type: 'code',
      scope: 'openid',
      redirect_uri: 'https://app.example.com/callback',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
    }).toString();
    const page = await agent.follow(url.toString());
    const form = readLoginForm(await page.response.text());
    const next = await agent.follow(new URL(form.action, page.url).toString(), {
      form: { csrf: form.csrf, username: 'alice', password: ALICE_PASSWORD },
    });
    const html = await next.response.text();
    assert.match(html, /Enter your code/);
    return { html, url: next.url! };
  };

  it('40 wrong codes sent at once over 8 sign-ins: at most 30 are checked, then the account is locked', async () => {
    // Codes that no step near now accepts (the clock is real, so wrong stays wrong for the test).
    const wrongCodes = Array.from({ length: 200 }, (_, n) => String(100_000 + n)).filter(
      (code) => matchingTotpSteps(secret, code, new Date()).length === 0,
    );
    const signIns = await Promise.all(Array.from({ length: 8 }, atCodePage));
    const answers = await Promise.all(
      signIns.flatMap((post, signIn) =>
        Array.from({ length: 5 }, (_, guess) => post(wrongCodes[signIn * 5 + guess]!)),
      ),
    );
    assert.ok(answers.every((answer) => answer.status === 401));

    const count = {
      checked: await countAuditedAttempts(lock.database.pool, { subject: 'alice', type: 'login.totp' }),
      lockedOut: await countAuditedAttempts(lock.database.pool, {
        subject: 'alice',
        type: 'login.locked_out',
      }),
    };
    assert.ok(count.checked <= 30, `${count.checked} codes were checked; the threshold is 30`);
    assert.equal(count.checked + count.lockedOut, 40);
    assert.equal(
      (await postOnce(lock.issuer, 'alice', ALICE_PASSWORD)).outcome,
      'refused',
      'the account is locked: even the right password is refused',
    );
  });
});
