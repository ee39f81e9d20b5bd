import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { request } from 'node:http';
import { connect } from 'node:net';
import { createInterface } from 'node:readline';
import { after, describe, it } from 'node:test';
import { createLocalJWKSet, type JSONWebKeySet, jwtVerify } from 'jose';
import { workerCount } from '../../src/cli/cluster.ts';
import { loadEnv } from '../../src/config/env.ts';
import { startWorkers } from '../helpers/cluster.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { SECRET, tokenConfig } from '../helpers/fixtures.ts';

type LogEntry = Record<string, unknown> & { msg: string };

/** The JSON log of the primary and its workers (they share its stdout), searchable as it grows. */
class Log {
  readonly entries: LogEntry[] = [];
  readonly #waiting = new Set<{ match: (entry: LogEntry) => boolean; resolve: (entry: LogEntry) => void }>();

  constructor(child: ChildProcess, stderr: () => string) {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const entry = JSON.parse(line) as LogEntry;
      this.entries.push(entry);
      for (const waiter of this.#waiting)
        if (waiter.match(entry)) {
          this.#waiting.delete(waiter);
          waiter.resolve(entry);
        }
    });
    child.on('close', (code) => {
      for (const waiter of this.#waiting) waiter.resolve({ msg: `exited ${code}: ${stderr()}` });
    });
  }

  /** The first entry that matches, logged already or yet to come. */
  async next(match: (entry: LogEntry) => boolean, what: string): Promise<LogEntry> {
    const entry =
      this.entries.find(match) ??
      (await new Promise<LogEntry>((resolve) => this.#waiting.add({ match, resolve })));
    assert.ok(match(entry), `waiting for ${what}, Lock ${entry.msg}`);
    return entry;
  }

  /** Which process served each of these requests, from the request log lines. */
  async servedBy(requestIds: string[]): Promise<Set<number>> {
    const pids = new Set<number>();
    for (const requestId of requestIds)
      pids.add(
        (await this.next((entry) => entry.msg === 'request' && entry.requestId === requestId, requestId))
          .pid as number,
      );
    return pids;
  }
}

const RESOURCE = 'https://db-api.example.com';
const FORM = `grant_type=client_credentials&resource=${encodeURIComponent(RESOURCE)}&scope=read`;
const BASIC = `Basic ${Buffer.from(`reporting-service:${SECRET}`).toString('base64')}`;

/** One token request on a connection of its own, so that the primary hands it to the next worker. */
function tokenRequest(port: number, requestId: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/token',
        method: 'POST',
        agent: false,
        headers: {
          authorization: BASIC,
          'content-type': 'application/x-www-form-urlencoded',
          'x-request-id': requestId,
        },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      },
    );
    req.on('error', reject);
    req.end(FORM);
  });
}

/** Sends `count` token requests one after another; each must succeed. Answers their request ids. */
async function tokens(port: number, prefix: string, count: number): Promise<string[]> {
  const ids = Array.from({ length: count }, (_, index) => `${prefix}-${index}`);
  for (const id of ids) {
    const response = await tokenRequest(port, id);
    assert.equal(response.status, 200, `${id}: ${response.body}`);
  }
  return ids;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const children: ChildProcess[] = [];
after(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
});

describe('lock serve --workers 2', () => {
  it('takes a worker count from --workers or LOCK_WORKERS, and names the one that is wrong', () => {
    assert.equal(workerCount('3', undefined), 3);
    assert.equal(workerCount(undefined, loadEnv({ LOCK_WORKERS: '2' }).LOCK_WORKERS), 2);
    assert.equal(workerCount('4', '2'), 4, 'the flag wins');
    assert.equal(workerCount(undefined, loadEnv({}).LOCK_WORKERS), undefined, 'neither: one process');
    assert.throws(() => workerCount('0', undefined), /--workers: must be a whole number from 1 to 256/);
    assert.throws(
      () => loadEnv({ LOCK_WORKERS: 'many' }),
      /LOCK_WORKERS: must be a whole number from 1 to 256/,
    );
  });

  it('serves from both workers, replaces a killed one, and drains in-flight requests on SIGTERM', {
    timeout: 120_000,
  }, async () => {
    const database = await createTestDatabase({ migrated: false });
    after(() => database.drop());
    const { child, port, issuer } = await startWorkers(database, {
      config: tokenConfig,
      env: { LOG_LEVEL: 'info' },
    });
    children.push(child);
    let stderr = '';
    child.stderr!.on('data', (chunk) => {
      stderr += chunk;
    });
    const log = new Log(child, () => stderr);

    const ready = await log.next((entry) => entry.msg === 'all workers ready', 'all workers ready');
    const [pidA, pidB] = ready.workerPids as [number, number];
    assert.notEqual(pidA, pidB);
    assert.equal(
      log.entries.filter((entry) => entry.msg === 'declarative configuration applied').length,
      1,
      'the declarative file is applied once, by the first worker',
    );
    assert.deepEqual(
      new Set(log.entries.filter((entry) => entry.msg === 'applying migration').map((entry) => entry.pid)),
      new Set([pidA]),
      'migrations run in the first worker only',
    );

    // A client-credentials token from the cluster, verified against the cluster's JWKS.
    const response = await tokenRequest(port, 'first-token');
    assert.equal(response.status, 200, response.body);
    const jwks = (await (await fetch(`${issuer}/jwks`)).json()) as JSONWebKeySet;
    const { payload } = await jwtVerify(
      (JSON.parse(response.body) as { access_token: string }).access_token,
      createLocalJWKSet(jwks),
      { issuer, audience: RESOURCE, typ: 'at+jwt' },
    );
    assert.equal(payload.client_id, 'reporting-service');
    assert.deepEqual(payload.roles, ['app_readwrite', 'app_readonly']);

    // Connections are handed to the workers in turn: both serve.
    assert.deepEqual(await log.servedBy(await tokens(port, 'both', 6)), new Set([pidA, pidB]));

    // Whichever worker a scrape reaches, /metrics counts the whole cluster's 7 tokens.
    for (const scrape of ['first', 'second']) {
      const metrics = await (await fetch(`${issuer}/metrics`)).text();
      const issued = new RegExp(
        `^lock_tokens_issued_total\\{grant_type="client_credentials",resource="${RESOURCE}"\\} (\\d+)$`,
        'm',
      ).exec(metrics);
      assert.equal(issued?.[1], '7', `${scrape} scrape:\n${metrics.slice(0, 500)}`);
    }

    // A worker killed outright: the other keeps serving, and the primary starts a replacement.
    process.kill(pidA, 'SIGKILL');
    await log.next(
      (entry) => entry.msg === 'worker exited: restarting it' && entry.workerPid === pidA,
      'exit',
    );
    assert.ok(!(await log.servedBy(await tokens(port, 'meanwhile', 4))).has(pidA));
    const replacement = (
      await log.next(
        (entry) => entry.msg === 'worker ready' && ![pidA, pidB].includes(entry.workerPid as number),
        'a replacement',
      )
    ).workerPid as number;
    assert.ok(alive(replacement));
    assert.deepEqual(await log.servedBy(await tokens(port, 'after', 6)), new Set([pidB, replacement]));

    // SIGTERM while a request is in flight: its headers are in (the worker said 100 Continue), its
    // body is sent only once every worker has begun shutting down; it is answered all the same
    // ('Connection: close': the worker ends the connection after the answer).
    const socket = connect(port, '127.0.0.1');
    socket.setEncoding('utf8');
    let answer = '';
    socket.on('data', (chunk: string) => {
      answer += chunk;
    });
    const answered = once(socket, 'end');
    socket.write(
      [
        'POST /token HTTP/1.1',
        `Host: 127.0.0.1:${port}`,
        `Authorization: ${BASIC}`,
        'Content-Type: application/x-www-form-urlencoded',
        `Content-Length: ${Buffer.byteLength(FORM)}`,
        'Expect: 100-continue',
        'Connection: close',
        'X-Request-Id: in-flight',
        '',
        '',
      ].join('\r\n'),
    );
    while (!answer.includes('100 Continue')) await once(socket, 'data');
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    for (const pid of [pidB, replacement])
      await log.next(
        (entry) => entry.msg === 'shutting down' && entry.pid === pid,
        `worker ${pid} shutting down`,
      );
    socket.write(FORM);
    await answered;
    assert.match(answer, /HTTP\/1\.1 200 OK/);
    assert.match(answer, /"access_token":"ey/);

    const [code] = await exited;
    assert.equal(code, 0, stderr);
    for (const pid of [pidA, pidB, replacement]) assert.equal(alive(pid), false, `worker ${pid} is gone`);
  });
});
