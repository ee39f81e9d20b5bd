import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type RunningLock, startLock } from '../helpers/lock.ts';
import { ALICE_PASSWORD, CALLBACK, loginConfig, payrollClient } from '../helpers/login-fixtures.ts';
import { readLoginForm, UserAgent } from '../helpers/user-agent.ts';

// loginConfig's web-app, plus a client that requires a second factor of everyone.
const config = loginConfig.replace('clients:\n', `clients:\n${payrollClient}`);

describe('a client that requires a second factor', () => {
  let lock: RunningLock;
  before(async () => {
    lock = await startLock({ config });
  });
  after(async () => {
    await lock.close();
    await lock.database.drop();
  });

  /** Where the browser goes right after the right password, for this client. */
  const afterPassword = async (clientId: string) => {
    const agent = new UserAgent(lock.issuer);
    const url = `${lock.issuer}/auth?client_id=${clientId}&response_type=code&scope=openid&redirect_uri=${encodeURIComponent(CALLBACK)}&code_challenge=${'a'.repeat(43)}&code_challenge_method=S256`;
    const page = await agent.follow(url);
    const form = readLoginForm(await page.response.text());
    const submitted = await agent.request(new URL(form.action, page.url!).toString(), {
      form: { csrf: form.csrf, username: 'alice', password: ALICE_PASSWORD },
    });
    return new URL(submitted.headers.get('location')!, lock.issuer);
  };

  it('sends a local user to TOTP enrolment before signing in to it', async () => {
    assert.match((await afterPassword('payroll')).pathname, /^\/interaction\/[^/]+\/totp$/);
  });

  it('does not ask the same user for a second factor at a client that does not require one', async () => {
    assert.doesNotMatch((await afterPassword('web-app')).pathname, /totp/);
  });
});
