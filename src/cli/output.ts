import pino from 'pino';
import { ConfigError } from '../config/schema-errors.ts';
import { LockError } from '../observability/errors.ts';
import { createLogger, type Logger } from '../observability/logger.ts';

/** The CLI's own output: plain text for people, on stdout/stderr (not the JSON log). */
export function print(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** A JSON document on stdout: what `--json` prints (the admin API's representation). */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/**
 * Exit status 2 for input Lock refuses (a file or an argument that fails its schema: each problem
 * on a line of its own, naming the field), 1 for anything else.
 */
export function exitWithError(error: unknown): never {
  const refusedInput =
    error instanceof LockError && (error.code === 'invalid_input' || error.code === 'invalid_request');
  const lines =
    refusedInput && error.problems.length > 0
      ? error.problems.map((problem) => `${problem.path || '(input)'}: ${problem.message}`)
      : [error instanceof Error ? error.message : String(error)];
  for (const line of lines) process.stderr.write(`lock: ${line}\n`);
  process.exit(error instanceof ConfigError || refusedInput ? 2 : 1);
}

/**
 * The JSON log of a command other than `serve`: on stderr, because stdout is the command's product
 * (`lock keys export > jwks.json`). Quiet unless LOG_LEVEL asks for more; written synchronously so
 * that nothing is lost when a command exits.
 */
export function cliLogger(): Logger {
  return createLogger(process.env.LOG_LEVEL ?? 'warn', pino.destination({ fd: 2, sync: true }));
}
