import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { COMPILE_CACHE_DIR, SERVER_ENV, SERVER_NODE_FLAGS } from '../../src/cli/node-flags.ts';

const root = join(import.meta.dirname, '../..');
const read = (file: string) => readFileSync(join(root, file), 'utf8');

/**
 * The server's runtime settings (src/cli/node-flags.ts) are written out by hand where Lock starts:
 * `npm start`, the Dockerfile, deploy/lock.service and the `lock` command. They must not drift apart: the benchmark
 * measures what these settings are said to be (bench/lib/servers.ts imports them).
 */
it('npm start, the Dockerfile, the systemd unit and the lock command start the server with the same settings', () => {
  const start = (JSON.parse(read('package.json')) as { scripts: { start: string } }).scripts.start;
  const dockerfile = read('Dockerfile');
  const cmd = /^CMD (\[.*\])$/m.exec(dockerfile)?.[1];
  assert.ok(cmd, 'the Dockerfile has a CMD');
  const shebang = read('src/cli/lock.ts').split('\n')[0]!;
  const unit = read('deploy/lock.service');
  const execStart = /^ExecStart=(.*)$/m.exec(unit)?.[1] ?? '';
  for (const flag of SERVER_NODE_FLAGS) {
    assert.ok(start.includes(` ${flag} `), `npm start: ${flag}`);
    assert.ok((JSON.parse(cmd) as string[]).includes(flag), `Dockerfile CMD: ${flag}`);
    assert.ok(shebang.includes(flag), `lock's shebang: ${flag}`);
    assert.ok(execStart.split(' ').includes(flag), `lock.service ExecStart: ${flag}`);
  }
  for (const [name, value] of Object.entries(SERVER_ENV)) {
    assert.ok(start.includes(`${name}=\${${name}-${value}}`), `npm start: ${name}`);
    assert.match(dockerfile, new RegExp(`^\\s+${name}=${value}\\b`, 'm'), `Dockerfile ENV: ${name}`);
    assert.match(unit, new RegExp(`^Environment=${name}=${value}$`, 'm'), `lock.service: ${name}`);
    assert.ok(shebang.includes(` ${name}=${value} node `), `lock's shebang: ${name}`);
  }
  assert.ok(
    start.includes(`NODE_COMPILE_CACHE=\${NODE_COMPILE_CACHE-${COMPILE_CACHE_DIR}}`),
    'npm start: cache',
  );
  assert.match(dockerfile, new RegExp(`^\\s+NODE_COMPILE_CACHE=/app/${COMPILE_CACHE_DIR}\\b`, 'm'));
  assert.match(unit, /^Environment=NODE_COMPILE_CACHE=\/var\/cache\/lock\//m, 'lock.service: cache');
  assert.match(unit, /^CacheDirectory=lock$/m, 'lock.service: its cache directory');
});
