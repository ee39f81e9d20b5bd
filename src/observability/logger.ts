import pino from 'pino';

export type Logger = pino.Logger;

/**
 * The server's log lines go to stdout from libuv's thread pool (sonic-boom, asynchronous): the event
 * loop neither makes a system call per request nor waits for the pipe. Access lines, one per
 * request, gather in a batch first and reach the destination together, in one string of at least
 * LOG_BATCH_BYTES (about 20 lines) or after at most LOG_FLUSH_MS (an idle server's lines are not held
 * back); any other line first pushes the batch out, so lines keep their order. Past
 * LOG_BACKLOG_BYTES waiting (stdout stalled), further lines are dropped rather than the memory
 * growing without end. What is still waiting is written on shutdown (`flushLog`) and on a crash
 * (`flushLogSync`); docs/performance.md has the measurements behind the choice.
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
      new BatchingDestination(
        pino.destination({ dest: 1, sync: false, minLength: 0, maxLength: LOG_BACKLOG_BYTES }),
      ),
  );
}

type SonicBoom = ReturnType<typeof pino.destination>;

/**
 * sonic-boom with the access lines gathered in front of it. Why not sonic-boom's own `minLength`
 * alone: it appends each line to the string it is gathering and measures that string's byte length
 * again on every write, which flattens it — a copy of up to a whole batch per line (measured: 3.7 µs
 * per access line, 2.7 with the time cached; 0.4 of it is the line itself). Here a line is pushed
 * onto an array, and the batch is joined once.
 */
class BatchingDestination implements pino.DestinationStream {
  readonly #inner: SonicBoom;
  #lines: string[] = [];
  #bytes = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(inner: SonicBoom) {
    this.#inner = inner;
  }

  /** pino's own lines: after the access lines gathered before them. */
  write(line: string): boolean {
    this.#pushBatch();
    return this.#inner.write(line);
  }

  /** An access line: gathered, and written with the batch. */
  writeBatched(line: string): void {
    this.#lines.push(line);
    this.#bytes += line.length;
    if (this.#bytes >= LOG_BATCH_BYTES) this.#pushBatch();
    else this.#timer ??= setTimeout(() => this.#pushBatch(), LOG_FLUSH_MS).unref();
  }

  flush(callback: (error?: Error) => void): void {
    this.#pushBatch();
    this.#inner.flush(callback);
  }

  flushSync(): void {
    this.#pushBatch();
    this.#inner.flushSync();
  }

  #pushBatch(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#lines.length === 0) return;
    const batch = this.#lines.join('');
    this.#lines = [];
    this.#bytes = 0;
    this.#inner.write(batch);
  }
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
  const write =
    stream instanceof BatchingDestination
      ? (line: string) => stream.writeBatched(line)
      : (line: string) => stream.write(line);
  const bindings = (log as unknown as Record<symbol, string>)[pino.symbols.chindingsSym] ?? '';
  let timeMs = 0;
  let time = '';
  return ({ requestId, method, path, status, ms }) => {
    if (!log.isLevelEnabled('info')) return;
    // Many requests share a millisecond: the ISO time is formatted once for each.
    const now = Date.now();
    if (now !== timeMs) {
      timeMs = now;
      time = new Date(now).toISOString();
    }
    write(
      `{"level":"info","time":"${time}"${bindings},"requestId":${jsonString(requestId)},"method":${jsonString(method)},"path":${jsonString(path)},"status":${status},"ms":${ms},"msg":"request"}\n`,
    );
  };
}

/** Characters a JSON string may carry as they are (request ids, methods, most paths). */
const PLAIN = /^[\w.:/~+@!$&'()*,;=%-]*$/;
const jsonString = (value: string) => (PLAIN.test(value) ? `"${value}"` : JSON.stringify(value));
