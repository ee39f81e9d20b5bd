import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startWorkers } from '../helpers/cluster.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { tokenConfig } from '../helpers/fixtures.ts';

const METRICS_TOKEN = 'cluster-metrics-scraper-token-0123';

const rssMiB = (pid: number) =>
  Number(/^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

const children: ChildProcess[] = [];
after(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
});

describe('/metrics of lock serve --workers 2 under a flood of made-up paths', () => {
  it('stays small, and every concurrent scrape is answered', { timeout: 120_000 }, async () => {
    const database = await createTestDatabase({ migrated: false });
    after(() => database.drop());
    const { child, issuer } = await startWorkers(database, {
      config: tokenConfig,
      env: { LOCK_METRICS_TOKEN: METRICS_TOKEN, LOG_LEVEL: 'silent' },
      stdio: 'ignore',
    });
    children.push(child);
    let ready = false;
    for (let attempt = 0; attempt < 300 && !ready; attempt++) {
      ready = await fetch(`${issuer}/readyz`).then(
        (response) => response.status === 200,
        () => false,
      );
      if (!ready) await sleep(100);
    }
    assert.ok(ready, 'the cluster became ready');
    const scrape = () =>
      fetch(`${issuer}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } }).then(
        async (response) => ({ status: response.status, text: await response.text() }),
      );
    // Ready once the first worker serves; the scrape answers once every worker has started too.
    let before = await scrape();
    for (let attempt = 0; attempt < 100 && before.status !== 200; attempt++) {
      await sleep(200);
      before = await scrape();
    }
    assert.equal(before.status, 200);
    const primaryBefore = rssMiB(child.pid!);

    const made = () => randomBytes(9).toString('base64url');
    const paths = Array.from({ length: 3000 }, (_, i) =>
      i % 3 === 0
        ? `/interaction/${made()}/${made()}`
        : i % 3 === 1
          ? `/saml/${made()}/${made()}`
          : `/interaction/${made()}/sso/${made()}/${made()}`,
    );
    for (let i = 0; i < paths.length; i += 100)
      await Promise.all(
        paths
          .slice(i, i + 100)
          .map((path) => fetch(`${issuer}${path}`).then((response) => response.arrayBuffer())),
      );

    const scrapes = await Promise.all(Array.from({ length: 30 }, scrape));
    for (const { status } of scrapes) assert.equal(status, 200);
    const scraped = scrapes[0]!.text;
    assert.ok(
      scraped.length < before.text.length + 50_000,
      `the exposition grew from ${before.text.length} to ${scraped.length} bytes`,
    );
    for (const label of scraped.matchAll(/route="([^"]*)"/g))
      assert.match(label[1]!, /^(other|\/[\w./:-]*)$/, `route label ${label[1]}`);
    const growth = rssMiB(child.pid!) - primaryBefore;
    assert.ok(growth < 50, `the primary's RSS grew by ${growth.toFixed(1)} MiB`);
  });
});
