import pino from 'pino';

export type Logger = pino.Logger;

/**
 * The server's log lines gather in memory and go to stdout in one write of at least
 * LOG_BATCH_BYTES (about 20 access-log lines), from libuv's thread pool, or after at most
 * LOG_FLUSH_MS when fewer came (an idle server's "Lock is ready" is not held back). The event loop
 * neither makes a system call per request nor waits for the pipe. Past LOG_BACKLOG_BYTES waiting
 * (stdout stalled), further lines are dropped rather than the memory growing without end. What is
 * still waiting is written on shutdown (`flushLog`) and on a crash (`flushLogSync`);
 * docs/performance.md has the measurements behind the choice.
 */
const LOG_BATCH_BYTES = 4096;
const LOG_FLUSH_MS = 100;
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
    destination ??
      pino.destination({
        dest: 1,
        sync: false,
        minLength: LOG_BATCH_BYTES,
        maxLength: LOG_BACKLOG_BYTES,
        // sonic-boom's option, missing from pino's type of destination()'s options
        ...({ periodicFlush: LOG_FLUSH_MS } as object),
      }),
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

/** One access-log line's fields (the path only: query strings carry codes and tokens). */
export interface AccessLine {
  requestId: string;
  method: string;
  path: string;
  status: number;
  ms: number;
}

/**
 * The access log: `log.child({ requestId }).info({ method, path, status, ms }, 'request')`, the same
 * JSON line on the same destination, without pino's per-line work (a child, the redaction walk,
 * the generic serialiser): it is written for every request, and its fields are known, flat and
 * carry no secret to redact. The logger's bindings (`service`, a worker's `worker` and `pid`) are
 * serialised once, by pino itself. Writes nothing unless `info` is enabled.
 */
export function accessLogger(log: Logger): (line: AccessLine) => void {
  const stream = (log as unknown as Record<symbol, pino.DestinationStream>)[pino.symbols.streamSym]!;
  const bindings = (log as unknown as Record<symbol, string>)[pino.symbols.chindingsSym] ?? '';
  return ({ requestId, method, path, status, ms }) => {
    if (!log.isLevelEnabled('info')) return;
    stream.write(
      `{"level":"info","time":"${new Date().toISOString()}"${bindings},"requestId":${JSON.stringify(requestId)},"method":${JSON.stringify(method)},"path":${JSON.stringify(path)},"status":${status},"ms":${ms},"msg":"request"}\n`,
    );
  };
}
