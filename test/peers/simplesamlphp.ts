import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, open, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { findFreePort } from '../../src/store/embedded-postgres.ts';
import type { Peer } from './peer.ts';

const SSP_WWW = '/usr/share/simplesamlphp/www';
const TEMPLATE = fileURLToPath(new URL('./simplesamlphp/', import.meta.url));
// Not 127.0.0.1, where Lock's tests listen: another host is another site, so the browser treats the
// IdP's POST to Lock's ACS as cross-site (SameSite=Lax cookies are not sent), as in production.
const HOST = '127.0.0.2';

/**
 * SimpleSAMLphp (Debian package, installed by test/peers/install.sh) as the SAML IdP, served by
 * PHP's built-in web server. Tests register Lock's SP metadata in `LOCK_TEST_SSP_DIR/sp-metadata/`
 * (see test/connectors/saml-helpers.ts); the IdP reads that folder on every request.
 */
export async function startSimpleSamlPhpPeer(): Promise<Peer> {
  if (!existsSync(SSP_WWW))
    throw new Error(`SimpleSAMLphp is not installed (${SSP_WWW}): run test/peers/install.sh as root`);
  const base = await mkdtemp(join(tmpdir(), 'lock-test-ssp-'));
  for (const dir of ['cert', 'log', 'data', 'tmp', 'sessions', 'sp-metadata', 'docroot'])
    await mkdir(join(base, dir));
  await cp(join(TEMPLATE, 'config'), join(base, 'config'), { recursive: true });
  await cp(join(TEMPLATE, 'metadata'), join(base, 'metadata'), { recursive: true });
  await symlink(SSP_WWW, join(base, 'docroot', 'simplesaml'));
  await promisify(execFile)('openssl', [
    ...['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '30', '-subj', '/CN=Lock test IdP'],
    ...['-keyout', join(base, 'cert', 'idp.pem'), '-out', join(base, 'cert', 'idp.crt')],
  ]);

  const port = await findFreePort();
  const origin = `http://${HOST}:${port}`;
  const log = await open(join(base, 'log', 'php-server.log'), 'a');
  // A session of its own (setsid), so that stopping the group also ends PHP's worker processes.
  const server: ChildProcess = spawn('php', ['-S', `${HOST}:${port}`, '-t', join(base, 'docroot')], {
    cwd: base,
    detached: true,
    stdio: ['ignore', log.fd, log.fd],
    env: {
      ...process.env,
      SSP_BASE: base,
      SSP_ORIGIN: origin,
      SIMPLESAMLPHP_CONFIG_DIR: join(base, 'config'),
      PHP_CLI_SERVER_WORKERS: '4',
    },
  });
  const exited = new Promise<number | null>((resolve) => server.once('exit', resolve));
  const stop = async () => {
    if (server.exitCode === null && server.signalCode === null) {
      try {
        process.kill(-server.pid!, 'SIGTERM');
      } catch {}
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 3_000))]);
      try {
        process.kill(-server.pid!, 'SIGKILL');
      } catch {}
    }
    await log.close();
    await rm(base, { recursive: true, force: true });
  };

  const metadataUrl = `${origin}/simplesaml/saml2/idp/metadata.php`;
  try {
    await waitForMetadata(metadataUrl, exited, base);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    name: 'simplesamlphp',
    env: {
      LOCK_TEST_SSP_ORIGIN: origin,
      LOCK_TEST_SSP_METADATA_URL: metadataUrl,
      LOCK_TEST_SSP_DIR: base,
    },
    stop,
  };
}

async function waitForMetadata(url: string, exited: Promise<unknown>, base: string): Promise<void> {
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  const deadline = Date.now() + 20_000;
  let last = '';
  while (Date.now() < deadline && !gone) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      const body = await response.text();
      // Its error pages answer 200 too: ready means the IdP's metadata document.
      if (response.ok && body.includes('IDPSSODescriptor')) return;
      last = `HTTP ${response.status}: ${body.slice(0, 300)}`;
    } catch (error) {
      last = String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const serverLog = await readFile(join(base, 'log', 'php-server.log'), 'utf8').catch(() => '');
  throw new Error(
    `SimpleSAMLphp did not serve its metadata at ${url} (${gone ? 'php exited' : 'timed out'}): ${last}\n${serverLog.slice(-2000)}`,
  );
}
