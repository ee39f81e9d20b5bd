// `npm test`: starts the peers the suite needs once, shares them with every test file through the
// environment, runs node's test runner, and stops the peers (also when the run fails).
import { spawn } from 'node:child_process';
import { startOpenLdapPeer } from './peers/openldap.ts';
import type { Peer } from './peers/peer.ts';
import { startPostgresPeer } from './peers/postgres.ts';
import { startSambaAdPeer } from './peers/samba-ad.ts';
import { startSimpleSamlPhpPeer } from './peers/simplesamlphp.ts';
import { startSmtpPeer } from './peers/smtp.ts';
import { startUpstreamOidcPeer } from './peers/upstream-oidc.ts';

/** Each peer starts once per run; its `env` reaches every test file. Add a peer with one line here. */
const PEER_STARTERS: Array<() => Promise<Peer>> = [
  startPostgresPeer,
  startSimpleSamlPhpPeer,
  startOpenLdapPeer,
  startSambaAdPeer,
  startUpstreamOidcPeer,
  startSmtpPeer,
];

const peers: Peer[] = [];
let code = 1;
try {
  for (const start of PEER_STARTERS) {
    const peer = await start();
    peers.push(peer);
    process.stdout.write(`peer ready: ${peer.name}\n`);
  }
  const patterns = process.argv.slice(2);
  const child = spawn(
    process.execPath,
    [
      '--test',
      '--test-concurrency=2',
      '--test-timeout=120000',
      ...(patterns.length > 0 ? patterns : ['test/**/*.test.ts']),
    ],
    { stdio: 'inherit', env: { ...process.env, ...Object.assign({}, ...peers.map((peer) => peer.env)) } },
  );
  code = await new Promise((resolve) =>
    child.on('exit', (status, signal) => resolve(status ?? (signal ? 1 : 0))),
  );
} finally {
  for (const peer of peers.reverse())
    await peer.stop().catch((error) => process.stderr.write(`stopping ${peer.name}: ${error}\n`));
}
process.exit(code);
