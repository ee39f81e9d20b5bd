import pino from 'pino';
import { ConfigError } from '../config/schema-errors.ts';
import { createLogger, type Logger } from '../observability/logger.ts';

/** The CLI's own output: plain text for people, on stdout/stderr (not the JSON log). */
export function print(line: string): void {
  process.stdout.write(`${line}\n`);
}

export function exitWithError(error: unknown): never {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`lock: ${message}\n`);
  process.exit(error instanceof ConfigError ? 2 : 1);
}

/**
 * The JSON log of a command other than `serve`: on stderr, because stdout is the command's product
 * (`lock keys export > jwks.json`). Quiet unless LOG_LEVEL asks for more; written synchronously so
 * that nothing is lost when a command exits.
 */
export function cliLogger(): Logger {
  return createLogger(process.env.LOG_LEVEL ?? 'warn', pino.destination({ fd: 2, sync: true }));
}
