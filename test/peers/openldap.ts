import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findFreePort } from '../../src/store/embedded-postgres.ts';
import type { Peer } from './peer.ts';
import { runPeerScript } from './peer-script.ts';

export interface OpenLdapOptions {
  /** Where its state lives; a new temporary directory by default. */
  dir?: string;
}

/**
 * An OpenLDAP (Debian slapd) of this run's own, on free loopback ports, loaded from
 * test/fixtures/ldap/openldap.ldif: StartTLS and ldaps with a CA of its own, memberOf, ppolicy.
 */
export async function startOpenLdapPeer(options: OpenLdapOptions = {}): Promise<Peer> {
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'lock-test-openldap-')));
  const [port, ldapsPort] = [await findFreePort(), await findFreePort()];
  const settings = {
    OPENLDAP_DIR: dir,
    OPENLDAP_PORT: String(port),
    OPENLDAP_LDAPS_PORT: String(ldapsPort === port ? port + 1 : ldapsPort),
    OPENLDAP_OWNER_PID: String(process.pid),
  };
  const env = await runPeerScript('openldap.sh', ['start'], settings);
  return {
    name: 'openldap',
    env,
    async stop() {
      await runPeerScript('openldap.sh', ['stop'], settings);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
