import type { Peer } from './peer.ts';
import { runPeerScript } from './peer-script.ts';

/**
 * The machine's Samba Active Directory DC (LDAP on 127.0.0.1:389/636, loaded from
 * test/fixtures/ldap/samba-ad.json). Its ports are fixed, so overlapping runs share it: this run
 * holds it until stop(), and the last holder stops it.
 */
export async function startSambaAdPeer(): Promise<Peer> {
  const holder = String(process.pid);
  const env = await runPeerScript('samba-ad.sh', ['start', holder]);
  return {
    name: 'samba-ad',
    env,
    async stop() {
      await runPeerScript('samba-ad.sh', ['stop', holder]);
    },
  };
}
