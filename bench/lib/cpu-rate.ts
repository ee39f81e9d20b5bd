export interface CpuRate {
  /** Completed per second, one operation at a time: bounded by latency (a thread-pool hop, say). */
  oneAtATimePerSecond: number;
  /** Completed per second of this process's CPU time, with several in flight: what one core sustains. */
  perCpuSecond: number;
}

const IN_FLIGHT = 8;

/**
 * The rate of an in-process operation, measured two ways: back to back, and per CPU-second with
 * IN_FLIGHT running at once (work that node hands to its thread pool, like WebCrypto signing or
 * argon2, would otherwise be timed by its hand-off latency). A short unmeasured run comes first.
 */
export async function measureCpuRate(
  operation: () => Promise<unknown>,
  durationMs: number,
): Promise<CpuRate> {
  await runFor(operation, Math.min(300, durationMs / 4), 1);
  const sequential = await runFor(operation, durationMs / 2, 1);
  const cpuBefore = process.cpuUsage();
  const parallel = await runFor(operation, durationMs / 2, IN_FLIGHT);
  const cpu = process.cpuUsage(cpuBefore);
  return {
    oneAtATimePerSecond: (sequential.count * 1000) / sequential.elapsedMs,
    perCpuSecond: (parallel.count * 1e6) / (cpu.user + cpu.system),
  };
}

async function runFor(operation: () => Promise<unknown>, durationMs: number, inFlight: number) {
  const started = performance.now();
  let count = 0;
  const worker = async () => {
    while (performance.now() - started < durationMs) {
      await operation();
      count++;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return { count, elapsedMs: performance.now() - started };
}
