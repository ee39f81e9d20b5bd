import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseDocument, stringify } from 'yaml';
import { z } from 'zod';
import { parseDeclarative } from '../../src/admin/declarative/file.ts';
import { declarativeSchemaWith } from '../../src/config/declarative-schema.ts';
import { ConfigError } from '../../src/config/schema-errors.ts';
import { connectorSchema } from '../../src/connectors/config-schemas.ts';

/**
 * Every ```yaml and ```json example in README.md and docs/*.md is read here, so that an example a
 * reader copies works:
 *
 * - ```json: must parse as JSON.
 * - ```yaml whose top-level keys are sections of the declarative file (roles, resources, clients,
 *   connectors, roleMappings, users): a declarative file, checked as `lock config check` checks
 *   one (the real schema; every `${VARIABLE}` set).
 * - ```yaml <section> (e.g. ```yaml connectors): entries of that section alone (a list, or one
 *   entry), checked as the file `<section>: [entries]`.
 * - ```yaml fragment: intentionally partial (a few members of an entry): must parse as YAML.
 * - Any other ```yaml (another program's file) must parse, and may not look like a piece of the
 *   declarative file (a list, or members of its entries) without saying which of the above it is.
 *
 * The marks go in the info string after the language, where Markdown renderers ignore them.
 */

const SOURCES = [
  'README.md',
  ...readdirSync('docs')
    .filter((file) => file.endsWith('.md'))
    .sort()
    .map((file) => `docs/${file}`),
];

interface Example {
  where: string;
  language: 'yaml' | 'json';
  marks: string[];
  text: string;
}

/** Fenced blocks, also inside list items (the fence's indentation is taken off every line). */
function examplesIn(file: string): Example[] {
  const markdown = readFileSync(file, 'utf8');
  const fence = /^([ \t]*)(`{3,})(yaml|yml|json)\b([^\n`]*)\n([\s\S]*?)^\1\2[ \t]*$/gm;
  return [...markdown.matchAll(fence)].map((match) => {
    const indent = match[1]!.length;
    const line = markdown.slice(0, match.index).split('\n').length;
    return {
      where: `${file}:${line}`,
      language: match[3] === 'json' ? 'json' : 'yaml',
      marks: match[4]!.trim().split(/\s+/).filter(Boolean),
      text: match[5]!
        .split('\n')
        .map((each) => each.slice(Math.min(indent, each.length - each.trimStart().length)))
        .join('\n'),
    };
  });
}

const declarativeSchema = declarativeSchemaWith(connectorSchema);
const SECTIONS = Object.keys(declarativeSchema.shape);

/** The member names of every section's entries: a block made of these is a piece of the file. */
const ENTRY_MEMBERS = new Set(
  Object.values(
    (
      z.toJSONSchema(declarativeSchema, { unrepresentable: 'any', io: 'input' }) as {
        properties: Record<string, { items: { properties: Record<string, unknown> } }>;
      }
    ).properties,
  ).flatMap((section) => Object.keys(section.items.properties)),
);

/** Every `${VARIABLE}` an example names is set, to a value any secret field takes. */
const EVERY_VARIABLE_SET = new Proxy({} as NodeJS.ProcessEnv, {
  get: (_, name) => (typeof name === 'string' ? `example-value-of-${name.toLowerCase()}` : undefined),
});

function checkDeclarative(example: Example, file: unknown): void {
  try {
    parseDeclarative(stringify(file), example.where, EVERY_VARIABLE_SET);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    assert.fail(`${example.where}: the example is not a valid declarative file:\n${error.message}`);
  }
}

const isMapping = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

function checkYaml(example: Example): void {
  const document = parseDocument(example.text, { uniqueKeys: true });
  assert.deepEqual(
    document.errors.map((error) => error.message),
    [],
    `${example.where}: the YAML does not parse`,
  );
  const value: unknown = document.toJS();
  const [mark, ...more] = example.marks;
  assert.deepEqual(more, [], `${example.where}: one mark at most (fragment, or a section name)`);
  if (mark === 'fragment') return;
  if (mark !== undefined) {
    assert.ok(
      SECTIONS.includes(mark),
      `${example.where}: "${mark}" is neither fragment nor one of ${SECTIONS}`,
    );
    checkDeclarative(example, { [mark]: Array.isArray(value) ? value : [value] });
    return;
  }
  if (isMapping(value) && Object.keys(value).some((key) => SECTIONS.includes(key))) {
    checkDeclarative(example, value);
    return;
  }
  const pieceOfTheFile =
    Array.isArray(value) || (isMapping(value) && Object.keys(value).some((key) => ENTRY_MEMBERS.has(key)));
  assert.ok(
    !pieceOfTheFile,
    `${example.where}: looks like part of a declarative file: mark it \`\`\`yaml <section> (checked as entries of that section) or \`\`\`yaml fragment`,
  );
}

describe('the examples in README.md and docs/ parse, and declarative ones are valid', () => {
  const examples = SOURCES.flatMap(examplesIn);

  it('finds the examples (the extraction itself works)', () => {
    assert.ok(examples.length >= 20, `only ${examples.length} examples found`);
    assert.ok(examples.some((example) => example.where.startsWith('docs/configuration.md:')));
    assert.ok(examples.some((example) => example.language === 'json'));
  });

  for (const example of examples)
    it(`${example.where} (${example.language}${example.marks.length > 0 ? ` ${example.marks.join(' ')}` : ''})`, () => {
      if (example.language === 'json') {
        assert.deepEqual(example.marks, [], `${example.where}: JSON examples take no marks`);
        assert.doesNotThrow(() => JSON.parse(example.text), `${example.where}: not JSON`);
        return;
      }
      checkYaml(example);
    });

  it('a broken example would be caught: the flow mapping with ${VARIABLE} the issue found', () => {
    const broken = {
      where: 'the issue’s example',
      language: 'yaml' as const,
      marks: [],
      text: 'users:\n  - { username: alice, password: ${ALICE_PASSWORD}, groups: [editors] }\n',
    };
    assert.throws(() => checkYaml(broken), /does not parse/);
    const invalid = { ...broken, text: 'users:\n  - { username: alice, email: not-an-email }\n' };
    assert.throws(() => checkYaml(invalid), /users\[0\]\.email: must be a valid email/);
    const unmarked = { ...broken, text: '- id: corp\n  type: ldap\n' };
    assert.throws(() => checkYaml(unmarked), /mark it/);
  });
});
