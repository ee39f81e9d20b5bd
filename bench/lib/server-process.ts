import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { childPids, rssMiB } from './process-usage.ts';

export interface ServerProcess {
  name: string;
  /** http://127.0.0.1:PORT */
  url: string;
  pid: number;
  /** The process and, for a cluster, its workers: whose CPU time and RSS are the server's. */
  processIds(): number[];
  /** The workers' pids, for a cluster (else empty). */
  workerPids(): number[];
  /** From spawn to the first 200 on the readiness path. */
  readyMs: number;
  /** The last lines the process wrote, for failure reports. */
  output(): string;
  exited(): boolean;
  stop(): Promise<void>;
}

export interface ServerProcessOptions {
  name: string;
  /** A TypeScript entry point, run by this very Node binary. */
  script: string;
  port: number;
  readyPath: string;
  env: Record<string, string>;
  readyTimeoutMs?: number;
  /** Node's own flags before the script (V8's, say). */
  nodeFlags?: readonly string[];
  /** A cluster: ready once this many worker processes run beside the primary. */
  workers?: number;
}

const OUTPUT_LINES_KEPT = 40;
const live = new Set<ChildProcess>();

// A crash or Ctrl-C between start and stop must not leave servers behind.
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export async function startServerProcess(options: ServerProcessOptions): Promise<ServerProcess> {
  const url = `http://127.0.0.1:${options.port}`;
  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    lines.splice(0, Math.max(0, lines.length - OUTPUT_LINES_KEPT));
  };
  const started = performance.now();
  // A minimal environment: only what is named here, so the figures do not depend on the caller's shell.
  const child = spawn(process.execPath, [...(options.nodeFlags ?? []), options.script], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', NODE_ENV: 'production', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  child.once('exit', () => live.delete(child));
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exitedEarly = once(child, 'exit').then(([code, signal]) => {
    throw new Error(
      `${options.name} exited before it was ready (${signal ?? `code ${code}`}):\n${lines.join('\n')}`,
    );
  });
  exitedEarly.catch(() => {});

  const readyMs = await Promise.race([
    waitUntilReady(`${url}${options.readyPath}`, options.readyTimeoutMs ?? 30_000).then(
      () => performance.now() - started,
    ),
    exitedEarly,
  ]).catch(async (error: unknown) => {
    await stopChild(child);
    throw error;
  });

  const workerPids = workerTracker(child.pid!, options.workers ?? 0);
  if (options.workers) await waitForWorkers(workerPids, options.workers, options.readyTimeoutMs ?? 30_000);

  return {
    name: options.name,
    url,
    pid: child.pid!,
    processIds: () => [child.pid!, ...workerPids()],
    workerPids,
    readyMs,
    output: () => lines.join('\n'),
    exited: () => child.exitCode !== null || child.signalCode !== null,
    stop: () => stopChild(child),
  };
}

/** The primary's children, looked up again only when one is missing or gone (a scan costs ~2 ms). */
function workerTracker(pid: number, expected: number): () => number[] {
  let known: number[] = [];
  return () => {
    if (expected === 0) return known;
    if (known.length < expected || known.some((worker) => rssMiB(worker) === undefined))
      known = childPids(pid);
    return known;
  };
}

/**
 * /readyz answers once the first worker serves; the others are forked then and start in about a
 * second. At LOG_LEVEL=warn nothing says when they serve: the warm-up covers it, and the caller
 * checks afterwards that every worker took its share of the work.
 */
async function waitForWorkers(workerPids: () => number[], expected: number, timeoutMs: number) {
  const deadline = performance.now() + timeoutMs;
  while (workerPids().length < expected) {
    if (performance.now() > deadline)
      throw new Error(`fewer than ${expected} workers within ${timeoutMs} ms`);
    await sleep(50);
  }
}

async function waitUntilReady(url: string, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if ((await statusOf(url)) === 200) return;
    await sleep(10);
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs} ms`);
}

/** node:http rather than fetch: no lazy loading of undici inside the start-up time being measured. */
function statusOf(url: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = request(url, { agent: false, timeout: 1_000 }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
    req.end();
  });
}

/** SIGTERM for a graceful stop, SIGKILL when that takes longer than 10 s. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const forced = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(forced);
}
