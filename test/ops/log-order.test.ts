import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { it } from 'node:test';

/**
 * Access lines are gathered before they are written (src/observability/logger.ts): a crash right
 * after them still writes every one, in order, before the lines logged after them and the fatal one.
 */
it('a crash writes the gathered access lines, in order, before the lines logged after them', async () => {
  const count = 7; // fewer than one batch: only the crash's synchronous flush writes them
  const child = spawn(process.execPath, [
    join(import.meta.dirname, '../fixtures/log-then-crash.ts'),
    String(count),
  ]);
  let stdout = '';
  child.stdout.on('data', (chunk) => {
    stdout += chunk;
  });
  const [code] = await once(child, 'exit');
  assert.equal(code, 1);
  const lines = stdout
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as { msg: string; requestId?: string; path?: string; level: string });
  assert.deepEqual(
    lines.map((line) => line.requestId ?? line.msg),
    [...Array.from({ length: count }, (_, i) => `request-${i}`), 'after the access lines', 'Lock crashed'],
  );
  // A path with a quote is written as valid JSON.
  assert.equal(lines[3]!.path, '/p/"3"');
  assert.equal(lines.at(-1)!.level, 'fatal');
});
