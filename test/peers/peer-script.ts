import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * Runs one of the peer scripts beside this file and reads the KEY='value' lines it prints. A script
 * that fails throws with its output: a peer that cannot start fails the run, it never skips.
 */
export async function runPeerScript(
  script: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<Record<string, string>> {
  const path = new URL(script, import.meta.url).pathname;
  try {
    const { stdout } = await run('bash', [path, ...args], {
      env: { ...process.env, ...env },
      timeout: 120_000,
      maxBuffer: 1 << 20,
    });
    return Object.fromEntries(
      [...stdout.matchAll(/^([A-Z0-9_]+)='(.*)'$/gm)].map((match) => [match[1]!, match[2]!]),
    );
  } catch (error) {
    const { stderr, stdout } = error as { stderr?: string; stdout?: string };
    throw new Error(
      `${script} ${args.join(' ')} failed: ${(error as Error).message}\n${stdout ?? ''}${stderr ?? ''}`,
    );
  }
}
