// Warming a fresh server process up before it is measured, as people run it: a process that has
// served traffic for hours, its hot code compiled by V8's optimising compiler and its heap grown.
//
// Why a warm-up of its own: a fresh Lock at the default configuration counts every token against
// the default limits (60,000 a minute per address and per client), and the measured load alone
// comes near them. The warm-up therefore comes from another loopback address (127.0.0.2: Lock
// listens on 127.0.0.1, and Linux routes the whole of 127/8 to the loopback interface) and with
// another client (WARM_UP_CLIENT_ID), as the many clients of a real deployment would, so that the
// measured client's counters start empty. Measured before this: a fresh process's first 2 s
// slice after a 3 s warm-up cost 600 µs of CPU per ES256 token against 350–435 µs in its later
// slices (docs/performance.md, "Warm-up").
import { Agent, request } from 'node:http';
import type { ServerProcess } from './server-process.ts';
import type { HttpRequestSpec } from './workload.ts';

/** How long a fresh process is loaded before it is first measured (BENCH_WARMUP, if longer, wins). */
export const FRESH_WARMUP_S = 10;

/** The loopback address the warm-up connects from (a rate-limit key apart from the load generator's). */
export const WARM_UP_ADDRESS = '127.0.0.2';

/**
 * `seconds` of `spec` over `connections` keep-alive connections from WARM_UP_ADDRESS. Answers the
 * problems seen (none is success): every answer must be 2xx, as in the measurement.
 */
export async function warmUp(
  server: ServerProcess,
  spec: HttpRequestSpec,
  seconds: number,
  connections: number,
): Promise<string[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: connections, localAddress: WARM_UP_ADDRESS });
  const url = new URL(spec.path, server.url);
  const statuses = new Map<string, number>();
  const until = performance.now() + seconds * 1000;
  try {
    await Promise.all(
      Array.from({ length: connections }, async () => {
        while (performance.now() < until) {
          const status = await send(agent, url, spec);
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
          if (!status.startsWith('2')) return;
        }
      }),
    );
  } finally {
    agent.destroy();
  }
  const failed = [...statuses].filter(([status]) => !status.startsWith('2'));
  return failed.length === 0
    ? []
    : [`warm-up: answers other than 2xx (${JSON.stringify(Object.fromEntries(statuses))})`];
}

/** One request; its status code, or the error's code when it got none. */
function send(agent: Agent, url: URL, spec: HttpRequestSpec): Promise<string> {
  return new Promise((resolve) => {
    const sent = request(
      url,
      { method: spec.method, agent, headers: spec.headers, timeout: 10_000 },
      (answer) => {
        answer.resume();
        answer.on('end', () => resolve(String(answer.statusCode)));
      },
    );
    sent.on('timeout', () => sent.destroy(new Error('timeout')));
    sent.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    sent.end(spec.body);
  });
}
