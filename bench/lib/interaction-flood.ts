import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { rssMiB, sampleRss } from './process-usage.ts';
import type { FlowRow } from './report.ts';
import type { ServerProcess } from './server-process.ts';
import { signInFlow } from './user-flows.ts';

/** The legitimate sign-in's p50 under the flood may be at most this many times its unloaded p50. */
const LATENCY_TARGET_RATIO = 2;
const RSS_GROWTH_TARGET_MIB = 50;
const FLOOD_CONCURRENCY = 8;
/** One address floods (Lock trusts the bench as its proxy); the person signing in is another. */
const ATTACKER = { 'x-forwarded-for': '203.0.113.7' };

const made = () => randomBytes(12).toString('base64url');

/**
 * What an anonymous flood of Lock's unauthenticated, id-bearing paths costs everyone else: GETs of
 * `/interaction/<random>` (each a path that once became a metric label) and POSTs of the login
 * form to made-up interactions (with a made-up interaction cookie, so each is looked up), while
 * one legitimate sign-in after another is timed and Lock's RSS sampled. The sign-in's p50 is
 * compared with its own unloaded p50, taken just before.
 */
export async function measureInteractionFlood(
  lock: ServerProcess,
  secret: string,
  password: string,
  durationS: number,
  warmupS: number,
): Promise<{ rows: FlowRow[]; problems: string[] }> {
  const problems: string[] = [];
  const unloaded = await timeSignIns(lock, secret, password, durationS, problems);

  // The flood runs in a thread of its own: sharing this event loop, it would slow the timing of
  // the sign-ins here rather than Lock's answers.
  const flood = new Worker(new URL(import.meta.url), { workerData: { floodUrl: lock.url } });
  const floodResult = new Promise<FloodResult>((resolve, reject) => {
    flood.once('message', resolve);
    flood.once('error', reject);
  });
  // Growth is measured from once the flood's paths are warm: a fresh process's first seconds of
  // any load (compiled code, pools, caches) are not what a flood costs.
  await sleep(warmupS * 1000);
  const rssBefore = rssMiB(lock.pid) ?? 0;
  const rss = sampleRss(() => lock.processIds());
  const flooded = await timeSignIns(lock, secret, password, durationS, problems);
  flood.postMessage('stop');
  const { latencies: floodLatencies, statuses, seconds: floodSeconds, failure } = await floodResult;
  if (failure) problems.push(`flood request failed: ${failure}`);
  const rssPeak = rss.stop() ?? rssBefore;
  const growth = rssPeak - rssBefore;
  const serverErrors = Object.entries(statuses).filter(([status]) => Number(status) >= 500);
  if (serverErrors.length > 0)
    problems.push(`the flood got server errors: ${JSON.stringify(Object.fromEntries(serverErrors))}`);

  const target = LATENCY_TARGET_RATIO * unloaded.p50;
  const at = (q: number) =>
    floodLatencies[Math.min(floodLatencies.length - 1, Math.floor(q * floodLatencies.length))] ?? 0;
  return {
    problems,
    rows: [
      {
        name: `sign-in during an /interaction flood (unloaded p50 ${Math.round(unloaded.p50)} ms)`,
        perSecond: flooded.perSecond,
        latencyMs: { p50: flooded.p50, p99: flooded.p99 },
        concurrency: 1,
        target: `p50 ≤ ${LATENCY_TARGET_RATIO} × unloaded (${Math.round(target)} ms)`,
        met: flooded.p50 <= target,
      },
      {
        name: `the /interaction flood itself (Lock RSS ${Math.round(rssBefore)} → peak ${Math.round(rssPeak)} MiB)`,
        perSecond: floodLatencies.length / floodSeconds,
        latencyMs: { p50: Math.round(at(0.5)), p99: Math.round(at(0.99)) },
        concurrency: FLOOD_CONCURRENCY,
        target: `RSS growth ≤ ${RSS_GROWTH_TARGET_MIB} MiB (${growth.toFixed(1)} MiB)`,
        met: growth <= RSS_GROWTH_TARGET_MIB,
      },
    ],
  };
}

interface FloodResult {
  latencies: number[];
  statuses: Record<number, number>;
  seconds: number;
  failure?: string;
}

/** In the flood's thread: FLOOD_CONCURRENCY loops of made-up interaction requests until told to stop. */
async function runFlood(url: string): Promise<FloodResult> {
  let flooding = true;
  parentPort!.once('message', () => {
    flooding = false;
  });
  const latencies: number[] = [];
  const statuses: Record<number, number> = {};
  let failure: string | undefined;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: FLOOD_CONCURRENCY }, async (_, lane) => {
      for (let i = 0; flooding && failure === undefined; i++) {
        const t0 = performance.now();
        const uid = made();
        try {
          const response =
            (i + lane) % 2 === 0
              ? await fetch(`${url}/interaction/${uid}/${made()}`, { redirect: 'manual', headers: ATTACKER })
              : await fetch(`${url}/interaction/${uid}/login`, {
                  method: 'POST',
                  redirect: 'manual',
                  headers: {
                    ...ATTACKER,
                    'content-type': 'application/x-www-form-urlencoded',
                    cookie: `_interaction=${uid}`,
                  },
                  body: `csrf=${made()}&username=${made()}&password=${made()}`,
                });
          await response.arrayBuffer();
          statuses[response.status] = (statuses[response.status] ?? 0) + 1;
          latencies.push(performance.now() - t0);
        } catch (error) {
          failure = (error as Error).message;
        }
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  return { latencies, statuses, seconds: (performance.now() - started) / 1000, ...(failure && { failure }) };
}

if (!isMainThread && (workerData as { floodUrl?: string } | null)?.floodUrl)
  parentPort!.postMessage(await runFlood((workerData as { floodUrl: string }).floodUrl));

/** One sign-in after another for `durationS` seconds (at least five): their rate and latency. */
async function timeSignIns(
  lock: ServerProcess,
  secret: string,
  password: string,
  durationS: number,
  problems: string[],
) {
  const latencies: number[] = [];
  const started = performance.now();
  while (performance.now() - started < durationS * 1000 || latencies.length < 5) {
    const t0 = performance.now();
    try {
      await signInFlow(lock, secret, password);
      latencies.push(performance.now() - t0);
    } catch (error) {
      problems.push(`legitimate sign-in failed: ${(error as Error).message}`);
      if (problems.length > 5) break;
    }
  }
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return {
    perSecond: latencies.length / ((performance.now() - started) / 1000),
    p50: Math.round(at(0.5)),
    p99: Math.round(at(0.99)),
  };
}
