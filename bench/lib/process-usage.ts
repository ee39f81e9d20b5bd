import { readdirSync, readFileSync } from 'node:fs';

const SAMPLE_EVERY_MS = 200;
const CLOCK_TICKS_PER_SECOND = 100;

/** Resident set size of a process in MiB, from /proc (Linux); undefined once it is gone. */
export function rssMiB(pid: number): number | undefined {
  try {
    const kib = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kib === undefined ? undefined : Number(kib) / 1024;
  } catch {
    return undefined;
  }
}

/**
 * CPU time a process has used so far (user + system, all its threads), in ms, from /proc (Linux).
 * Unlike throughput, it hardly moves when other work shares the machine.
 */
export function cpuTimeMs(pid: number): number | undefined {
  return cpuTimeFromStat(`/proc/${pid}/stat`);
}

/**
 * CPU time of a process's main thread alone — Node's event loop, which bounds what one process can
 * serve (signatures and other thread-pool work run beside it) — in ms, from /proc (Linux).
 */
export function eventLoopCpuTimeMs(pid: number): number | undefined {
  return cpuTimeFromStat(`/proc/${pid}/task/${pid}/stat`);
}

function cpuTimeFromStat(path: string): number | undefined {
  try {
    const stat = readFileSync(path, 'utf8');
    // Fields after the parenthesised command name, which may itself contain spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? (ticks * 1000) / CLOCK_TICKS_PER_SECOND : undefined;
  } catch {
    return undefined;
  }
}

/** The sum over processes (a cluster's primary and workers); undefined when none answers. */
export function summed(pids: readonly number[], measure: (pid: number) => number | undefined) {
  const values = pids.map(measure).filter((value) => value !== undefined);
  return values.length === 0 ? undefined : values.reduce((sum, value) => sum + value, 0);
}

/** The processes whose parent is `pid` (a cluster primary's workers), from /proc (Linux). */
export function childPids(pid: number): number[] {
  const children: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) children.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return children;
}

/**
 * Samples the summed RSS of a server's processes every 200 ms until stopped; `stop()` answers the
 * peak seen.
 */
export function sampleRss(pids: () => readonly number[]): { stop(): number | undefined } {
  let peak: number | undefined;
  const sample = () => {
    const rss = summed(pids(), rssMiB);
    if (rss !== undefined && (peak === undefined || rss > peak)) peak = rss;
  };
  sample();
  const timer = setInterval(sample, SAMPLE_EVERY_MS);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return peak;
    },
  };
}
