import autocannon, { aggregateResult, type RawResult, type Result } from 'autocannon';
import { cpuTimeMs, eventLoopCpuTimeMs, sampleRss, summed } from './process-usage.ts';
import type { ServerProcess } from './server-process.ts';
import type { HttpRequestSpec } from './workload.ts';

export interface LoadSettings {
  connections: number;
  warmupS: number;
  durationS: number;
}

export interface HttpFigures {
  requestsPerSecond: number;
  latencyMs: { average: number; p50: number; p99: number };
  /** Answered with 2xx during the measurement (warm-up not counted). */
  completed: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
  /** Highest RSS of the server (summed over its workers, if any) seen during warm-up and measurement. */
  peakRssMiB: number | undefined;
  /** Server CPU time (all threads, all its processes) per answered request during the measurement. */
  serverCpuMsPerRequest: number | undefined;
  /** The same per 2 s slice, in round order: servers compared slice by slice show the noise. */
  serverCpuMsPerRequestBySlice: number[];
  /** The same for the main threads alone (the event loops): what bounds one process's rate. */
  eventLoopCpuMsPerRequest: number | undefined;
  /** The load generator's (this process's) CPU time per answered request over the same slices. */
  loadGeneratorCpuMsPerRequest: number | undefined;
  /** Cores the server and the load generator kept busy on average over its slices (CPU s ÷ wall s). */
  coresUsed: { server: number | undefined; loadGenerator: number };
  /** Everything that makes the figures untrustworthy: any non-2xx, error or timeout. */
  problems: string[];
}

/** How long each server is loaded at a stretch when servers take turns. */
const SLICE_S = 2;

interface Slices {
  runs: RawResult[];
  cpuMsPerRequestBySlice: number[];
  cpuMs: number | undefined;
  eventLoopCpuMs: number | undefined;
  loadGeneratorCpuMs: number;
  seconds: number;
}

/**
 * Loads each server with `spec` from this process over keep-alive connections: a warm-up each,
 * then `durationS` each in 2 s slices, taking turns (A B, B A, A B, …) so that other work on the
 * machine, which comes and goes, weighs on every server alike. Answers figures in server order.
 */
export async function compareHttp(
  servers: readonly ServerProcess[],
  spec: HttpRequestSpec,
  settings: LoadSettings,
): Promise<HttpFigures[]> {
  const rss = servers.map((server) => sampleRss(() => server.processIds()));
  try {
    const warmups: Result[] = [];
    for (const server of servers)
      warmups.push(
        await load(server, spec, { connections: settings.connections, duration: settings.warmupS }),
      );

    const rounds = Math.max(1, Math.round(settings.durationS / SLICE_S));
    const sliceS = settings.durationS / rounds;
    const slices = servers.map(
      (): Slices => ({
        runs: [],
        cpuMs: 0,
        eventLoopCpuMs: 0,
        loadGeneratorCpuMs: 0,
        seconds: 0,
        cpuMsPerRequestBySlice: [],
      }),
    );
    for (let round = 0; round < rounds; round++) {
      const order = [...servers.keys()];
      if (round % 2 === 1) order.reverse();
      for (const index of order) {
        const server = servers[index]!;
        const own = slices[index]!;
        const cpuBefore = summed(server.processIds(), cpuTimeMs);
        const loopBefore = summed(server.processIds(), eventLoopCpuTimeMs);
        const ownBefore = process.cpuUsage();
        const run = await autocannon({
          ...requestOptions(server, spec),
          connections: settings.connections,
          duration: sliceS,
          skipAggregateResult: true,
        });
        const ownUsed = process.cpuUsage(ownBefore);
        const cpuAfter = summed(server.processIds(), cpuTimeMs);
        const loopAfter = summed(server.processIds(), eventLoopCpuTimeMs);
        own.runs.push(run);
        own.seconds += run.duration;
        own.loadGeneratorCpuMs += (ownUsed.user + ownUsed.system) / 1000;
        own.cpuMs = added(own.cpuMs, cpuBefore, cpuAfter);
        const sliceCpuMs = added(0, cpuBefore, cpuAfter);
        const sliceAnswered = run['2xx'] + run.non2xx;
        if (sliceCpuMs !== undefined && sliceAnswered > 0)
          own.cpuMsPerRequestBySlice.push(sliceCpuMs / sliceAnswered);
        own.eventLoopCpuMs = added(own.eventLoopCpuMs, loopBefore, loopAfter);
      }
    }

    return servers.map((server, index) => {
      const own = slices[index]!;
      const result = aggregateResult(own.runs, {
        url: `${server.url}${spec.path}`,
        connections: settings.connections,
      });
      const answered = result['2xx'] + result.non2xx;
      return {
        requestsPerSecond: answered / own.seconds,
        latencyMs: { average: result.latency.average, p50: result.latency.p50, p99: result.latency.p99 },
        completed: result['2xx'],
        non2xx: result.non2xx,
        errors: result.errors,
        timeouts: result.timeouts,
        statusCodes: statusCodes(result),
        peakRssMiB: rss[index]!.stop(),
        serverCpuMsPerRequest: perRequest(own.cpuMs, answered),
        serverCpuMsPerRequestBySlice: own.cpuMsPerRequestBySlice,
        eventLoopCpuMsPerRequest: perRequest(own.eventLoopCpuMs, answered),
        loadGeneratorCpuMsPerRequest: perRequest(own.loadGeneratorCpuMs, answered),
        coresUsed: {
          server: own.cpuMs === undefined ? undefined : own.cpuMs / 1000 / own.seconds,
          loadGenerator: own.loadGeneratorCpuMs / 1000 / own.seconds,
        },
        problems: [...problemsOf('warm-up', warmups[index]!), ...problemsOf('measurement', result)].concat(
          server.exited() ? [`${server.name} exited:\n${server.output()}`] : [],
        ),
      };
    });
  } finally {
    for (const sampler of rss) sampler.stop();
  }
}

/** A running total of CPU time, or undefined once any reading failed (a process gone). */
function added(total: number | undefined, before: number | undefined, after: number | undefined) {
  return total === undefined || before === undefined || after === undefined
    ? undefined
    : total + after - before;
}

function perRequest(ms: number | undefined, answered: number): number | undefined {
  return ms === undefined || answered === 0 ? undefined : ms / answered;
}

/** One server on its own, e.g. for a scenario with nothing to compare it with. */
export async function measureHttp(
  server: ServerProcess,
  spec: HttpRequestSpec,
  settings: LoadSettings,
): Promise<HttpFigures> {
  const [figures] = await compareHttp([server], spec, settings);
  return figures!;
}

/** Sends exactly `amount` requests over `connections`; answers the problems seen (none is success). */
export async function sendRequests(
  server: ServerProcess,
  spec: HttpRequestSpec,
  amount: number,
  connections: number,
): Promise<string[]> {
  return problemsOf(`${amount} requests`, await load(server, spec, { connections, amount }));
}

function load(
  server: ServerProcess,
  spec: HttpRequestSpec,
  run: { connections: number; duration?: number; amount?: number },
): Promise<Result> {
  return Promise.resolve(autocannon({ ...requestOptions(server, spec), ...run }));
}

function requestOptions(server: ServerProcess, spec: HttpRequestSpec) {
  return {
    url: `${server.url}${spec.path}`,
    method: spec.method,
    ...(spec.headers && { headers: spec.headers }),
    ...(spec.body !== undefined && { body: spec.body }),
    timeout: 10,
  };
}

function statusCodes(result: Result): Record<string, number> {
  return Object.fromEntries(Object.entries(result.statusCodeStats).map(([code, { count }]) => [code, count]));
}

function problemsOf(phase: string, result: Result): string[] {
  const problems: string[] = [];
  if (result.non2xx > 0)
    problems.push(
      `${phase}: ${result.non2xx} non-2xx answers (status codes ${JSON.stringify(statusCodes(result))})`,
    );
  if (result.errors > 0) problems.push(`${phase}: ${result.errors} connection errors`);
  if (result.timeouts > 0) problems.push(`${phase}: ${result.timeouts} timeouts`);
  if (result['2xx'] === 0) problems.push(`${phase}: no successful answer at all`);
  return problems;
}
