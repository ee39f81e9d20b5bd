import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { ADVISORY_LOCKS } from '../../src/store/advisory-locks.ts';

const SRC = new URL('../../src/', import.meta.url).pathname;

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map((entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return sourceFiles(path);
      return Promise.resolve(entry.name.endsWith('.ts') ? [path] : []);
    }),
  );
  return nested.flat();
}

describe('the persistence rule', () => {
  it('runs queries only from src/store/', async () => {
    const offenders: string[] = [];
    for (const file of await sourceFiles(SRC)) {
      const name = relative(SRC, file);
      if (name.startsWith('store/')) continue;
      const text = await readFile(file, 'utf8');
      if (/\.query\s*[<(]|pg_(try_)?advisory/.test(text)) offenders.push(name);
    }
    assert.deepEqual(offenders, [], 'these modules run SQL outside src/store/');
  });

  it('gives every advisory lock its own id', () => {
    const ids = Object.values(ADVISORY_LOCKS);
    assert.equal(new Set(ids).size, ids.length);
  });
});
