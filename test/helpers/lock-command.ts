// `lock …` as an operator runs it: `node src/cli/lock.ts`, in its own process.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { RunningLock } from './lock.ts';

export interface CommandRun {
  /** The exit status (0 on success). */
  code: number;
  stdout: string;
  stderr: string;
}

const execFileAsync = promisify(execFile);

/** Runs `lock ARGS` with `env` over this process's environment and `stdin` (closed, empty by default). */
export function lockCommand(
  args: string[],
  options: { env?: Record<string, string>; stdin?: string } = {},
): Promise<CommandRun> {
  const child = execFileAsync(process.execPath, ['src/cli/lock.ts', ...args], {
    env: { ...process.env, ...options.env },
  });
  child.child.stdin!.end(options.stdin ?? '');
  return child.then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: CommandRun) => error,
  );
}

/** The environment of a command against a running Lock: its database and keys, and `extra`. */
export const commandEnv = (lock: RunningLock, extra: Record<string, string> = {}) => ({
  DATABASE_URL: lock.database.url,
  LOCK_KEYS_DIR: lock.keysDir,
  ...extra,
});
