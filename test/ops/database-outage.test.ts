import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type EmbeddedDatabase,
  findFreePort,
  startEmbeddedPostgres,
} from '../../src/store/embedded-postgres.ts';
import { createPool } from '../../src/store/pool.ts';
import { SECRET, tokenConfig } from '../helpers/fixtures.ts';
import { postForm, type RunningLock, startLock } from '../helpers/lock.ts';

// A PostgreSQL of this test's own, so that it can be stopped and started again under Lock.
describe('PostgreSQL stopped and restarted under a running Lock', () => {
  let dataDir: string;
  let port: number;
  let database: EmbeddedDatabase;
  let lock: RunningLock;

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'lock-outage-pg-'));
    port = await findFreePort();
    database = await startEmbeddedPostgres({ dataDir, port });
    const pool = createPool({ url: database.url, max: 2 });
    lock = await startLock({
      config: `${tokenConfig}  - { clientId: web-app, clientSecret: ${SECRET}, redirectUris: ["https://app.example.com/callback"] }\n`,
      database: { url: database.url, pool, drop: () => pool.end() },
    });
  });
  after(async () => {
    await lock?.close();
    await lock?.database.drop();
    await database?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  const token = () =>
    postForm(
      `${lock.issuer}/token`,
      { grant_type: 'client_credentials', resource: 'https://db-api.example.com' },
      ['reporting-service', SECRET],
    );
  const loginPage = () =>
    fetch(
      `${lock.issuer}/auth?client_id=web-app&response_type=code&scope=openid&redirect_uri=${encodeURIComponent('https://app.example.com/callback')}`,
      { redirect: 'manual', headers: { accept: 'application/json' } },
    );

  it('answers 503 + Retry-After while the database is away, keeps issuing cached-path tokens, and recovers alone', async () => {
    assert.equal((await token()).status, 200);
    await database.stop();

    const started = performance.now();
    const ready = await fetch(`${lock.issuer}/readyz`);
    assert.equal(ready.status, 503);
    assert.ok(ready.headers.get('retry-after'));
    assert.equal((await fetch(`${lock.issuer}/healthz`)).status, 200, 'the process is up');
    assert.equal((await token()).status, 200, 'client credentials need no database query');

    const refused = await fetch(`${lock.issuer}/readyz`);
    assert.equal(refused.status, 503);
    const auth = await loginPage();
    assert.equal(
      auth.status,
      503,
      `a request that needs the database fails fast and clearly (${auth.status})`,
    );
    assert.equal(auth.headers.get('retry-after'), '5');
    assert.ok(performance.now() - started < 20_000, 'bounded by the pool timeouts, never a hang');

    database = await startEmbeddedPostgres({ dataDir, port });
    let recovered = false;
    for (let attempt = 0; attempt < 60 && !recovered; attempt++) {
      recovered = (await fetch(`${lock.issuer}/readyz`)).status === 200;
      if (!recovered) await sleep(250);
    }
    assert.ok(recovered, '/readyz is green again');
    const after = await loginPage();
    assert.ok(
      after.status === 303 || after.status === 302 || after.status === 400,
      `the database path works again (${after.status})`,
    );
    assert.equal((await token()).status, 200);
  });
});
