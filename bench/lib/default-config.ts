// Lock as people run it — LOG_LEVEL=info with the access log, the default rate limits, audit —
// beside the tuned Lock (LOG_LEVEL=warn) and the bare oidc-provider, on client credentials. The
// headline is CPU time per token, which other work on a shared machine hardly moves; requests
// per second are printed beside it, with the cores the server and the load generator kept busy.
import type { HttpFigures } from './http-load.ts';
import { formatCount, formatFixed, renderTable } from './table.ts';

/** Lock's CPU per token at the default configuration ÷ the bare provider's. */
export const DEFAULT_CPU_RATIO_TARGET = 1.1;
/** Peak RSS of one Lock process under the client-credentials load, every connector type available. */
export const RSS_UNDER_LOAD_TARGET_MIB = 250;

export interface DefaultConfigRow {
  name: string;
  /** LOG_LEVEL=info, default rate limits and audit: what `npm start` and the Dockerfile run. */
  lockDefault: HttpFigures;
  /** LOG_LEVEL=warn, rate limits out of reach (same limiter work per request). */
  lockTuned: HttpFigures;
  bare: HttpFigures;
}

const us = (ms: number | undefined) => (ms === undefined ? undefined : ms * 1000);

export const cpuRatio = (row: DefaultConfigRow) =>
  ratio(row.lockDefault.serverCpuMsPerRequest, row.bare.serverCpuMsPerRequest);

/**
 * Lock ÷ bare per round of slices (the two loaded in turn, seconds apart): the lowest and highest,
 * so a reader sees how far one run's ratio can be trusted on this machine.
 */
export function cpuRatioRange(row: DefaultConfigRow): { low: number; high: number } | undefined {
  const lock = row.lockDefault.serverCpuMsPerRequestBySlice;
  const bare = row.bare.serverCpuMsPerRequestBySlice;
  const ratios = lock.slice(0, bare.length).map((value, round) => value / bare[round]!);
  return ratios.length === 0 ? undefined : { low: Math.min(...ratios), high: Math.max(...ratios) };
}

/** The access log's CPU per request: the default Lock's CPU per token less the tuned one's, in µs. */
export const accessLogCostUs = (row: DefaultConfigRow) =>
  row.lockDefault.serverCpuMsPerRequest === undefined || row.lockTuned.serverCpuMsPerRequest === undefined
    ? undefined
    : (row.lockDefault.serverCpuMsPerRequest - row.lockTuned.serverCpuMsPerRequest) * 1000;

function ratio(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined || b === undefined || b === 0 ? undefined : a / b;
}

export function peakRssUnderLoad(rows: readonly DefaultConfigRow[]): number | undefined {
  const peaks = rows.map((row) => row.lockDefault.peakRssMiB).filter((value) => value !== undefined);
  return peaks.length === 0 ? undefined : Math.max(...peaks);
}

const rangeOf = (range: { low: number; high: number } | undefined) =>
  range === undefined ? '–' : `${range.low.toFixed(2)}–${range.high.toFixed(2)}`;

const mark = (ok: boolean | undefined) => (ok === undefined ? '' : ok ? 'ok' : 'MISSED');

export function renderDefaultConfig(rows: readonly DefaultConfigRow[]): string {
  const table = renderTable(
    [
      { title: 'client credentials, CPU per token', align: 'left' },
      { title: 'Lock default µs' },
      { title: 'bare µs' },
      { title: 'Lock/bare' },
      { title: 'per 2 s round', align: 'left' },
      { title: 'target', align: 'left' },
      { title: 'Lock tuned µs' },
      { title: 'access log µs' },
      { title: 'Lock default req/s' },
      { title: 'bare req/s' },
      { title: 'cores: Lock + load gen' },
      { title: 'load gen µs/req' },
    ],
    rows.map((row) => {
      const r = cpuRatio(row);
      const cores = row.lockDefault.coresUsed;
      return [
        row.name,
        formatFixed(us(row.lockDefault.serverCpuMsPerRequest), 0),
        formatFixed(us(row.bare.serverCpuMsPerRequest), 0),
        formatFixed(r, 2),
        rangeOf(cpuRatioRange(row)),
        `≤ ${DEFAULT_CPU_RATIO_TARGET.toFixed(2)} ${mark(r === undefined ? undefined : r <= DEFAULT_CPU_RATIO_TARGET)}`,
        formatFixed(us(row.lockTuned.serverCpuMsPerRequest), 0),
        formatFixed(accessLogCostUs(row), 0),
        formatCount(row.lockDefault.requestsPerSecond),
        formatCount(row.bare.requestsPerSecond),
        `${formatFixed(cores.server, 2)} + ${formatFixed(cores.loadGenerator, 2)}`,
        formatFixed(us(row.lockDefault.loadGeneratorCpuMsPerRequest), 0),
      ];
    }),
  );
  const rss = peakRssUnderLoad(rows);
  const costs = rows.map(accessLogCostUs).filter((value) => value !== undefined);
  const meanCost =
    costs.length === 0 ? undefined : costs.reduce((sum, value) => sum + value, 0) / costs.length;
  return [
    table,
    `Lock default = LOG_LEVEL=info (one access-log line per request), default rate limits, audit; tuned = LOG_LEVEL=warn.`,
    `access log's CPU per request (default − tuned, mean over the rows): ${formatFixed(meanCost, 0)} µs`,
    `RSS of the default Lock under this load (peak): ${formatFixed(rss, 0)} MiB, target ≤ ${RSS_UNDER_LOAD_TARGET_MIB} MiB ${mark(rss === undefined ? undefined : rss <= RSS_UNDER_LOAD_TARGET_MIB)}`,
  ].join('\n');
}
