import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Peer } from './peer.ts';

// Not 127.0.0.1, where Lock's tests listen: the upstream is another site, as in production.
const HOST = '127.0.0.3';

/**
 * A real upstream OpenID provider (node-oidc-provider, test/peers/upstream-oidc-server.ts) in a
 * process of its own, once per run: the `oidc` connector's tests sign in through it.
 */
export async function startUpstreamOidcPeer(): Promise<Peer> {
  const adminToken = randomBytes(24).toString('base64url');
  const script = fileURLToPath(new URL('./upstream-oidc-server.ts', import.meta.url));
  const child = spawn(process.execPath, [script, HOST, '0', adminToken], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 3_000))]);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  const lines = createInterface({ input: child.stdout! });
  const ready = new Promise<{ issuer: string }>((resolve, reject) => {
    lines.on('line', (line) => {
      if (line.startsWith('READY ')) resolve(JSON.parse(line.slice('READY '.length)));
    });
    void exited.then((code) =>
      reject(new Error(`the upstream OpenID provider exited (${code}) before it was ready`)),
    );
    setTimeout(
      () => reject(new Error('the upstream OpenID provider did not start within 20 s')),
      20_000,
    ).unref();
  });
  try {
    const { issuer } = await ready;
    return {
      name: 'upstream-oidc',
      env: { LOCK_TEST_UPSTREAM_OIDC_ISSUER: issuer, LOCK_TEST_UPSTREAM_OIDC_ADMIN_TOKEN: adminToken },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
