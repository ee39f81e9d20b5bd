import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AcsFloodFigures } from './acs-flood.ts';
import type { CpuRate } from './cpu-rate.ts';
import type { DbWorkPerRequest, IdleRate, WorkCount } from './db-activity.ts';
import type { DefaultConfigRow } from './default-config.ts';
import type { HttpFigures } from './http-load.ts';
import type { RefreshCost } from './refresh-cost.ts';
import type { BenchSettings } from './settings.ts';
import { formatCount, formatFixed, renderTable } from './table.ts';

export interface StartupFigure {
  name: string;
  readyMs: number;
  targetMs?: number;
  rssAtReadyMiB: number | undefined;
}

/** One HTTP scenario: Lock's figures and, where there is one, the bare oidc-provider's for comparison. */
export interface HttpScenarioFigures {
  name: string;
  lock: HttpFigures;
  bare?: HttpFigures;
  /** Lock req/s ÷ bare req/s. */
  ratio?: number;
  targetRatio?: number;
}

/** One scenario on one Lock process and on a cluster of workers, loaded by the same generator. */
export interface WorkersFigures {
  scenario: string;
  workers: number;
  single: HttpFigures;
  cluster: HttpFigures;
  /** The cluster's req/s ÷ the single process's. */
  ratio: number;
  /** Each worker's share of the workers' CPU time over the comparison: near 1/N when all serve. */
  workerCpuShares: number[];
}

export interface CpuRateFigure extends CpuRate {
  name: string;
}

export interface FlowRow {
  name: string;
  perSecond: number;
  latencyMs: { p50: number; p99: number };
  concurrency: number;
  /** e.g. "≥ 0.8 × argon2 ceiling (… /s)" or "≥ 1,000/s", with its verdict. */
  target: string;
  met: boolean;
}

export interface BenchReport {
  date: string;
  machine: {
    cpus: number;
    cpuModel: string;
    memoryGiB: number;
    node: string;
    postgres: string;
    platform: string;
    /** Other work on the machine lowers and scatters every figure. */
    loadAverageAtStart: number;
  };
  settings: BenchSettings;
  startup: StartupFigure[];
  http: HttpScenarioFigures[];
  /** `LOCK_WORKERS=N` against one process. */
  workers?: WorkersFigures;
  /** In-process rates on one core (nothing over HTTP). */
  cpu: CpuRateFigure[];
  db?: DbWorkPerRequest & { idle: IdleRate };
  /** Whole user flows over HTTP against Lock, with the ceiling or target they are held to. */
  flows: FlowRow[];
  /** bench/lib/acs-flood.ts: Lock's RSS and latency while its SAML ACS is flooded. */
  acsFlood?: AcsFloodFigures;
  /** bench/lib/default-config.ts: client credentials at the default configuration, CPU per token. */
  defaultConfig?: DefaultConfigRow[];
  /** bench/lib/refresh-cost.ts: the rotating refresh grant's CPU (Lock, PostgreSQL) and statements. */
  refresh?: RefreshCost;
  /** The same with a client whose ID tokens are ES256 (`idTokenSigningAlg`). */
  refreshEs256IdTokens?: RefreshCost;
  /** Anything that makes the run a failure: the figures above are not to be trusted. */
  problems: string[];
}

const BUSY_LOAD_AVERAGE = 0.5;

const verdict = (ok: boolean) => (ok ? 'ok' : 'BELOW TARGET');

export function renderReport(report: BenchReport): string {
  const { machine, settings } = report;
  const sections = [
    `Lock benchmark, ${report.date}: ${machine.cpus} × ${machine.cpuModel}, Node ${machine.node}, PostgreSQL ${machine.postgres}`,
    `load from a separate process: ${settings.connections} connections, ${settings.warmupS} s warm-up + ${settings.durationS} s per measurement`,
    ...(machine.loadAverageAtStart > BUSY_LOAD_AVERAGE
      ? [
          `note: the 1-minute load average was ${machine.loadAverageAtStart.toFixed(2)} when the run started: other work on this machine makes the figures low and scattered`,
        ]
      : []),
    '',
    renderTable(
      [
        { title: 'start-up: spawn → ready (Lock: /readyz 200)', align: 'left' },
        { title: 'ms' },
        { title: 'RSS MiB' },
        { title: 'target' },
        { title: '' },
      ],
      report.startup.map((figure) => [
        figure.name,
        formatCount(figure.readyMs),
        formatFixed(figure.rssAtReadyMiB, 0),
        figure.targetMs === undefined ? '' : `≤ ${formatCount(figure.targetMs)}`,
        figure.targetMs === undefined ? '' : verdict(figure.readyMs <= figure.targetMs),
      ]),
    ),
    '',
    renderTable(
      [
        { title: 'HTTP', align: 'left' },
        { title: 'Lock req/s' },
        { title: 'p50 ms' },
        { title: 'p99 ms' },
        { title: 'RSS MiB' },
        { title: 'CPU µs/req' },
        { title: 'loop µs/req' },
        { title: 'bare req/s' },
        { title: 'p50 ms' },
        { title: 'p99 ms' },
        { title: 'RSS MiB' },
        { title: 'CPU µs/req' },
        { title: 'loop µs/req' },
        { title: 'Lock/bare' },
        { title: 'target', align: 'left' },
      ],
      report.http.map((row) => [
        row.name,
        ...httpCells(row.lock),
        ...httpCells(row.bare),
        formatFixed(row.ratio, 2),
        row.targetRatio === undefined || row.ratio === undefined
          ? ''
          : `≥ ${row.targetRatio} ${verdict(row.ratio >= row.targetRatio)}`,
      ]),
    ),
    ...(report.workers ? ['', renderWorkers(report.workers)] : []),
    '',
    renderTable(
      [
        { title: 'in-process', align: 'left' },
        { title: 'per CPU-second' },
        { title: 'CPU µs each' },
        { title: 'one at a time /s' },
      ],
      report.cpu.map((figure) => [
        figure.name,
        formatCount(figure.perCpuSecond),
        formatFixed(1e6 / figure.perCpuSecond, 0),
        formatCount(figure.oneAtATimePerSecond),
      ]),
    ),
  ];
  if (report.flows.length > 0)
    sections.push(
      '',
      renderTable(
        [
          { title: 'user flows over HTTP (Lock)', align: 'left' },
          { title: 'per s' },
          { title: 'p50 ms' },
          { title: 'p99 ms' },
          { title: 'in flight' },
          { title: 'target', align: 'left' },
        ],
        report.flows.map((row) => [
          row.name,
          formatFixed(row.perSecond, 0),
          formatFixed(row.latencyMs.p50, 0),
          formatFixed(row.latencyMs.p99, 0),
          String(row.concurrency),
          `${row.target} ${verdict(row.met)}`,
        ]),
      ),
    );
  if (report.db) sections.push('', renderDbWork(report.db));
  if (report.problems.length > 0)
    sections.push(
      '',
      'FAILED — these figures are not to be trusted:',
      ...report.problems.map((p) => `  • ${p}`),
    );
  return sections.join('\n');
}

function httpCells(figures: HttpFigures | undefined): string[] {
  if (!figures) return ['', '', '', '', '', ''];
  return [
    formatCount(figures.requestsPerSecond),
    formatFixed(figures.latencyMs.p50, 0),
    formatFixed(figures.latencyMs.p99, 0),
    formatFixed(figures.peakRssMiB, 0),
    formatFixed(microseconds(figures.serverCpuMsPerRequest), 0),
    formatFixed(microseconds(figures.eventLoopCpuMsPerRequest), 0),
  ];
}

function microseconds(ms: number | undefined): number | undefined {
  return ms === undefined ? undefined : ms * 1000;
}

function renderWorkers(figures: WorkersFigures): string {
  const table = renderTable(
    [
      { title: `one process vs workers: ${figures.scenario}`, align: 'left' },
      { title: 'req/s' },
      { title: 'p50 ms' },
      { title: 'p99 ms' },
      { title: 'RSS MiB' },
      { title: 'CPU µs/req' },
      { title: 'loop µs/req' },
    ],
    [
      ['1 process', ...httpCells(figures.single)],
      [`${figures.workers} workers (LOCK_WORKERS=${figures.workers})`, ...httpCells(figures.cluster)],
    ],
  );
  const shares = figures.workerCpuShares.map((share) => `${Math.round(share * 100)} %`).join(' / ');
  return `${table}\n${figures.workers} workers ÷ 1 process: ${formatFixed(figures.ratio, 2)}; the workers' shares of their CPU time: ${shares} (same load generator, on the same cores)`;
}

function renderDbWork(db: DbWorkPerRequest & { idle: IdleRate }): string {
  const lines = [
    `Lock's database work per token request, over ${formatCount(db.requests)} requests (${formatFixed(db.windowS, 0)} s window; idle noise from ${formatFixed(db.idle.windowS, 0)} s of idling):`,
    workLine('transactions', db.transactions),
  ];
  if (db.statements) {
    lines.push(workLine('statements', db.statements));
    if (db.statements.top.length > 0) lines.push('  statements seen in the window:');
    for (const { query, calls } of db.statements.top)
      lines.push(
        `    ${String(calls).padStart(6)} × ${query.length > 100 ? `${query.slice(0, 99)}…` : query}`,
      );
  } else lines.push('  statements:   – (pg_stat_statements not available)');
  return lines.join('\n');
}

function workLine(what: string, count: WorkCount): string {
  return `  ${`${what}:`.padEnd(14)}${formatFixed(count.perRequest, 3)} per request  (${count.observed} in the window, idle noise ${formatFixed(count.idleNoise, 1)}; at most ${formatFixed(count.upperBound, 3)} per request)`;
}

/** bench/results/<timestamp>.json; answers the path written. */
export async function writeReport(report: BenchReport, resultsDir: string): Promise<string> {
  await mkdir(resultsDir, { recursive: true });
  const path = join(resultsDir, `${report.date.replace(/[:.]/g, '-')}.json`);
  await writeFile(path, `${JSON.stringify(report, null, 2)}\n`);
  return path;
}
