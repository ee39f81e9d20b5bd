import { ConfigError } from '../config/schema-errors.ts';

/** The CLI's own output: plain text for people, on stdout/stderr (not the JSON log). */
export function print(line: string): void {
  process.stdout.write(`${line}\n`);
}

export function exitWithError(error: unknown): never {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`lock: ${message}\n`);
  process.exit(error instanceof ConfigError ? 2 : 1);
}
