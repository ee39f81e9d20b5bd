import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { accountSignIn, csrfOf, listedSessions, post } from '../helpers/account-agent.ts';
import { openLdap, type TestDirectory } from '../helpers/directories.ts';
import { type RunningLock, startLock } from '../helpers/lock.ts';

// Someone whose sign-in their organisation manages (here an OpenLDAP directory) sees their sessions
// and sign-ins on /account, is told who manages the rest, and cannot change it here.
describe('/account for a directory account', () => {
  let lock: RunningLock;
  let directory: TestDirectory;

  before(async () => {
    directory = openLdap();
    lock = await startLock({
      config: `
connectors:
  - id: corp
    type: ldap
    name: Corporate directory
    config: ${JSON.stringify(directory.connectorConfig())}
`,
    });
  });
  after(async () => {
    await lock?.close();
    await lock?.database.drop();
    await directory?.close();
  });

  it('shows sessions and sign-ins, says the organisation manages the rest, and refuses those routes', async () => {
    const { username, password } = directory.alice;
    await accountSignIn(lock.issuer, username, password);
    const { agent, html } = await accountSignIn(lock.issuer, username, password);
    assert.match(html, /managed by your organisation \(Corporate directory\)/);
    assert.match(html, /id="sessions"/);
    assert.match(html, /id="sign-ins"/);
    assert.doesNotMatch(html, /id="password"|id="two-step"/);
    assert.match(html, /<td>Password<\/td><td>Succeeded<\/td>/);
    assert.equal(listedSessions(html).length, 1, 'the other browser');

    const passwordPage = await agent.request(`${lock.issuer}/account/password`);
    assert.equal(passwordPage.status, 403);
    assert.match(await passwordPage.text(), /Managed by your organisation/);
    const csrf = csrfOf(html);
    for (const path of [
      '/account/password',
      '/account/two-step/enrol',
      '/account/two-step/remove',
      '/account/two-step/recovery-codes',
    ]) {
      const refused = await post(agent, lock.issuer, path, {
        csrf,
        current_password: password,
        new_password: 'not going to happen here',
        confirm_password: 'not going to happen here',
      });
      assert.equal(refused.status, 403, path);
    }
    const { rowCount } = await lock.database.pool.query(
      "SELECT 1 FROM audit_events WHERE type LIKE 'account.%'",
    );
    assert.equal(rowCount, 0, 'nothing was changed, nothing audited');

    const ended = await post(agent, lock.issuer, '/account/sessions/end-others', { csrf });
    assert.equal(ended.headers.get('location'), '/account?done=sessions.ended-others#sessions');
  });
});
