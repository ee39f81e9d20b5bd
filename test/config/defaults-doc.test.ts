import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { ENV_DEFAULTS } from '../../src/config/defaults.ts';
import { ENV_VARIABLES, loadEnv } from '../../src/config/env.ts';

/** docs/configuration.md's environment table: each variable named in a row, with the row's default (`—`: none). */
async function documentedDefaults(): Promise<Map<string, string>> {
  const text = await readFile(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
  const section = text.slice(
    text.indexOf('## Environment'),
    text.indexOf('\n## ', text.indexOf('## Environment') + 1),
  );
  const documented = new Map<string, string>();
  for (const line of section.split('\n')) {
    const cells = line.split('|').map((cell) => cell.trim());
    // | `NAME`[, `NAME`] | `default` (note) or — | meaning |
    if (cells.length < 4 || !cells[1]?.startsWith('`')) continue;
    const defaultCell = cells[2] ?? '';
    const value = defaultCell.startsWith('`')
      ? defaultCell.slice(1, defaultCell.indexOf('`', 1))
      : defaultCell;
    for (const [, name] of cells[1].matchAll(/`([A-Z_]+)`/g)) documented.set(name!, value);
  }
  return documented;
}

describe('docs/configuration.md and the defaults', () => {
  it('lists every environment variable Lock reads, and no other', async () => {
    const documented = await documentedDefaults();
    assert.deepEqual([...documented.keys()].sort(), [...ENV_VARIABLES].sort());
  });

  it('gives each variable the default Lock applies when it is unset', async () => {
    const documented = await documentedDefaults();
    const applied = loadEnv({});
    for (const name of ENV_VARIABLES) {
      const value = applied[name];
      const expected = value === undefined ? '—' : Array.isArray(value) ? value.join(',') : String(value);
      assert.equal(documented.get(name), expected, `${name}: documented default`);
    }
  });

  it('takes every default from defaults.ts', () => {
    const applied = loadEnv({}) as Record<string, unknown>;
    for (const [name, value] of Object.entries(ENV_DEFAULTS)) {
      assert.ok(ENV_VARIABLES.includes(name as never), `${name} is a variable env.ts reads`);
      const got = applied[name];
      assert.equal(Array.isArray(got) ? got.join(',') : String(got), String(value), name);
    }
    for (const name of ENV_VARIABLES)
      if (applied[name] !== undefined)
        assert.ok(Object.hasOwn(ENV_DEFAULTS, name), `${name}'s default is in defaults.ts`);
  });
});
