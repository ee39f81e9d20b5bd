import pino from 'pino';

export type Logger = pino.Logger;

/**
 * The server's log lines go to stdout asynchronously: each write is handed to libuv's thread pool,
 * and the lines logged while one is under way gather and go in the next, so under load the event
 * loop makes one system call per batch, not per request, and never waits for the pipe. An idle
 * server writes each line at once (no minimum batch that would hold "Lock is ready" back). Past
 * this many bytes waiting (stdout stalled), further lines are dropped rather than the memory
 * growing without end. What is still waiting is written on shutdown (`flushLog`) and on a crash
 * (`flushLogSync`); docs/performance.md has the measurements behind the choice.
 */
const LOG_BACKLOG_BYTES = 16 * 1024 * 1024;

/**
 * JSON lines on stdout (the server's, asynchronously: see LOG_BACKLOG_BYTES), or on `destination`
 * (the CLI's: stderr, so stdout stays a command's product). Headers that carry credentials are
 * never written.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { service: 'lock' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'res.headers["set-cookie"]',
        '*.password',
        '*.clientSecret',
        '*.client_secret',
      ],
      censor: '[redacted]',
    },
  };
  return pino(
    options,
    destination ?? pino.destination({ dest: 1, sync: false, maxLength: LOG_BACKLOG_BYTES }),
  );
}

/** Waits until every line logged so far has been written: call it before a planned exit. */
export function flushLog(log: Logger): Promise<void> {
  return new Promise((resolve) => {
    try {
      log.flush(() => resolve());
    } catch {
      resolve(); // a destination that cannot flush (closed) has nothing left to give
    }
  });
}

/** Writes what is buffered now, blocking: for a crash, where nothing asynchronous will run any more. */
export function flushLogSync(log: Logger): void {
  const stream = (log as unknown as Record<symbol, unknown>)[pino.symbols.streamSym] as
    | { flushSync?: () => void }
    | undefined;
  try {
    stream?.flushSync?.();
  } catch {
    // not ready or destroyed: nothing more can be written
  }
}
