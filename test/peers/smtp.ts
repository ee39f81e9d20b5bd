import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Peer } from './peer.ts';

/**
 * A real SMTP server (the `smtp-server` package, test/peers/smtp-server.ts) in a process of its
 * own, once per run. `LOCK_TEST_SMTP_URL` is what a Lock under test gets as LOCK_SMTP_URL
 * (credentials in it, as an operator would write them); every message it accepts lands as a .eml
 * file in `LOCK_TEST_MAILBOX`, which test/helpers/mailbox.ts reads.
 */
export async function startSmtpPeer(): Promise<Peer> {
  const mailbox = await mkdtemp(join(tmpdir(), 'lock-test-mailbox-'));
  const username = 'lock-mailer';
  const password = randomBytes(18).toString('base64url');
  const script = fileURLToPath(new URL('./smtp-server.ts', import.meta.url));
  const child = spawn(process.execPath, [script, '127.0.0.1', '0', mailbox, username, password], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 3_000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    await rm(mailbox, { recursive: true, force: true });
  };
  const lines = createInterface({ input: child.stdout! });
  const ready = new Promise<{ host: string; port: number }>((resolve, reject) => {
    lines.on('line', (line) => {
      if (line.startsWith('READY ')) resolve(JSON.parse(line.slice('READY '.length)));
    });
    void exited.then((code) => reject(new Error(`the SMTP server exited (${code}) before it was ready`)));
    setTimeout(() => reject(new Error('the SMTP server did not start within 20 s')), 20_000).unref();
  });
  try {
    const { host, port } = await ready;
    return {
      name: 'smtp',
      env: {
        LOCK_TEST_SMTP_URL: `smtp://${username}:${password}@${host}:${port}`,
        LOCK_TEST_MAILBOX: mailbox,
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
