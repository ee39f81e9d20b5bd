// The message catalogue (views/locales/, docs/languages.md): every shipped language has every key
// of en.json and no other, with the same placeholders; every key the templates and the code name
// exists; a key a language lacks reads in English.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { renderView, VIEWS_DIR, type ViewData, type ViewName } from '../../src/interactions/views.ts';
import { ENGLISH, LANGUAGES, LOCALES_DIR, loadCatalogue, localeOf } from '../../src/web/i18n.ts';

type Messages = { [key: string]: string | Messages };

const PLURAL_SUFFIX = /_(zero|one|two|few|many|other)$/;

/** `login.errors.busy` → its text, for every leaf of a catalogue file. */
function flatten(messages: Messages, prefix = ''): Map<string, string> {
  const flat = new Map<string, string>();
  for (const [key, value] of Object.entries(messages)) {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    if (typeof value === 'string') flat.set(path, value);
    else for (const [inner, text] of flatten(value, path)) flat.set(inner, text);
  }
  return flat;
}

function catalogueFile(language: string): Map<string, string> {
  return flatten(JSON.parse(readFileSync(`${LOCALES_DIR}${language}.json`, 'utf8')) as Messages);
}

/** Plural forms (`key_one`, `key_other`) count as their key: languages have different plural categories. */
const baseKeys = (messages: Map<string, string>) =>
  new Set([...messages.keys()].map((key) => key.replace(PLURAL_SUFFIX, '')));

const placeholders = (text: string) => [...text.matchAll(/\{\{\s*([\w.]+)\s*\}\}/g)].map((m) => m[1]).sort();

/** For each shipped language: the keys it lacks and the keys en.json does not have. */
function catalogueGaps(): Record<string, { missing: string[]; unknown: string[] }> {
  const english = baseKeys(catalogueFile(ENGLISH));
  const gaps: Record<string, { missing: string[]; unknown: string[] }> = {};
  for (const language of LANGUAGES.filter((l) => l !== ENGLISH)) {
    const keys = baseKeys(catalogueFile(language));
    gaps[language] = {
      missing: [...english].filter((key) => !keys.has(key)).sort(),
      unknown: [...keys].filter((key) => !english.has(key)).sort(),
    };
  }
  return gaps;
}

describe('the message catalogue', () => {
  it('ships English, German, French, Spanish and Japanese, English first, read from views/locales/', () => {
    assert.deepEqual(LANGUAGES[0], ENGLISH);
    assert.deepEqual([...LANGUAGES].sort(), ['de', 'en', 'es', 'fr', 'ja']);
    const files = readdirSync(LOCALES_DIR).filter((file) => file.endsWith('.json'));
    assert.deepEqual(files.map((file) => file.replace(/\.json$/, '')).sort(), [...LANGUAGES].sort());
  });

  it('lists, per language, the keys missing compared to en.json and the keys en.json lacks: none', () => {
    const gaps = catalogueGaps();
    // The list itself is the report (npm test -- test/interactions/catalogue.test.ts).
    for (const [language, { missing, unknown }] of Object.entries(gaps)) {
      if (missing.length > 0) console.log(`${language}.json lacks: ${missing.join(', ')}`);
      if (unknown.length > 0) console.log(`${language}.json has keys en.json lacks: ${unknown.join(', ')}`);
    }
    assert.deepEqual(
      gaps,
      Object.fromEntries(
        LANGUAGES.filter((l) => l !== ENGLISH).map((l) => [l, { missing: [], unknown: [] }]),
      ),
    );
  });

  it('the gap report finds a missing key and an extra one (fixture catalogue)', () => {
    const dir = fileURLToPath(new URL('../fixtures/locales-partial/', import.meta.url));
    const read = (language: string) =>
      baseKeys(flatten(JSON.parse(readFileSync(`${dir}${language}.json`, 'utf8')) as Messages));
    const english = read('en');
    const german = read('de');
    assert.deepEqual(
      [...english].filter((key) => !german.has(key)),
      ['login.submit'],
    );
  });

  it('keeps each message’s placeholders, and no message is empty or holds markup', () => {
    const english = catalogueFile(ENGLISH);
    for (const language of LANGUAGES) {
      for (const [key, text] of catalogueFile(language)) {
        assert.notEqual(text.trim(), '', `${language}: ${key} is empty`);
        assert.doesNotMatch(text, /<[a-z/!]/i, `${language}: ${key} holds markup (templates escape it)`);
        const reference = english.get(key.replace(PLURAL_SUFFIX, '_other')) ?? english.get(key);
        if (reference !== undefined)
          assert.deepEqual(placeholders(text), placeholders(reference), `${language}: ${key} placeholders`);
      }
    }
  });

  it('has every key the templates and the code name', () => {
    const english = catalogueFile(ENGLISH);
    const used = new Set<string>();
    const sources = [
      ...readdirSync(VIEWS_DIR, { recursive: true })
        .map(String)
        .filter((file) => file.endsWith('.eta'))
        .map((file) => `${VIEWS_DIR}${file}`),
      ...readdirSync(fileURLToPath(new URL('../../src/', import.meta.url)), { recursive: true })
        .map(String)
        .filter((file) => file.endsWith('.ts'))
        .map((file) => fileURLToPath(new URL(`../../src/${file}`, import.meta.url))),
    ];
    // A key in a call (`t('login.title'`, `around('login.lead'`), or a key handed down as a value:
    // a literal of three segments or more under a catalogue section (`'login.errors.busy'`), or under
    // errors./common. (two-segment literals elsewhere are audit event types: `login.totp`).
    const sections = [...new Set([...english.keys()].map((key) => key.split('.')[0]))].join('|');
    const called = /\b(?:t|around)\(\s*['`]([a-z_]+(?:\.[a-z_]+)+)['`]/g;
    const handed = new RegExp(
      `['\`]((?:${sections})\\.[a-z_]+\\.[a-z_]+(?:\\.[a-z_]+)*|(?:errors|common)\\.[a-z_]+)['\`]`,
      'g',
    );
    for (const file of sources) {
      // Comments name example keys (`it.t('page.key')`): only code counts.
      // Audit event types (`type: 'account.password.changed'`) are not keys, however many segments.
      const text = readFileSync(file, 'utf8')
        .replace(/^\s*(?:\/\/|\/?\*).*$/gm, '')
        .replace(/\btype:[^,\n]*/g, '');
      for (const match of [...text.matchAll(called), ...text.matchAll(handed)]) used.add(match[1]!);
    }
    const prefixes = new Set(
      [...english.keys()].flatMap((key) =>
        key.split('.').map((_, i, parts) => parts.slice(0, i + 1).join('.')),
      ),
    );
    const unknown = [...used].filter((key) => !english.has(key) && !prefixes.has(key));
    assert.deepEqual(unknown, [], 'keys used but not in en.json');
    assert.ok(used.has('login.title') && used.has('errors.oidc.invalid_redirect_uri'), 'the scan finds keys');
  });
});

// One page of each kind, with every optional part present (an error, SSO buttons, codes).
const SAMPLES: { [N in ViewName]: ViewData[N] } = {
  login: {
    clientName: 'Acme',
    formAction: '/i/login',
    csrfToken: 'c',
    error: 'x',
    ssoConnectors: [{ id: 'okta', name: 'Okta', href: '/i/sso/okta' }],
    resetHref: '/reset',
  },
  consent: {
    clientName: 'Acme',
    scopes: ['openid', 'profile', 'email', 'phone', 'address', 'offline_access', 'payroll:read'],
    resources: ['https://api.example.com'],
    formAction: '/i/confirm',
    cancelAction: '/i/abort',
    csrfToken: 'c',
  },
  logout: { clientName: 'Acme', formAction: '/session/end/confirm', xsrf: 'x' },
  'logged-out': { clientName: 'Acme' },
  error: {
    title: 'T',
    message: 'M',
    requestId: 'r',
    back: { href: 'https://app.example.com/', name: 'Acme' },
    details: [{ label: 'L', value: 'V' }],
  },
  'totp-enrol': {
    username: 'alice',
    qrCode: 'data:image/svg+xml;base64,PHN2Zy8+',
    secret: 'JBSWY3DPEHPK3PXP',
    otpauthUri: 'otpauth://totp/Lock:alice?secret=JBSWY3DPEHPK3PXP',
    formAction: '/i/totp',
    csrfToken: 'c',
    restartHref: '/i/totp/restart',
    error: 'x',
  },
  'totp-verify': { username: 'alice', formAction: '/i/totp', csrfToken: 'c', restartHref: '/i/totp/restart' },
  'totp-recovery-codes': { codes: ['aaaa-bbbb'], formAction: '/i/totp/continue', csrfToken: 'c' },
  'device-code': { formAction: '/device', xsrf: 'x', error: 'x', notice: 'n' },
  'device-confirm': { formAction: '/device', xsrf: 'x', userCode: 'BCDF-GHJK', clientName: 'Acme' },
  'device-approved': { clientName: 'Acme' },
  'reset-request': { formAction: '/reset', sent: false, minutes: 15, error: 'x' },
  'reset-password': { formAction: '/reset/t', done: false, minLength: 8, error: 'x' },
  'verify-email': { formAction: '/verify-email/t', done: false },
};

describe('every page in every shipped language', () => {
  it('renders with lang set and no catalogue key left untranslated', () => {
    const sections = [...new Set([...catalogueFile(ENGLISH).keys()].map((key) => key.split('.')[0]))].join(
      '|',
    );
    const leftover = new RegExp(`\\b(?:${sections})\\.[a-z_]+(?:\\.[a-z_]+)*`);
    for (const language of LANGUAGES) {
      for (const name of Object.keys(SAMPLES) as ViewName[]) {
        const html = renderView(name, SAMPLES[name] as never, localeOf(language));
        assert.match(html, new RegExp(`<html lang="${language}">`), `${language} ${name}`);
        // Visible text and attributes only (the stylesheet link and form actions are ours).
        const text = html.replace(/<link[^>]*>/g, '').replace(/(?:action|href|src)="[^"]*"/g, '');
        assert.doesNotMatch(text, leftover, `${language} ${name}: a key shown as text`);
      }
    }
  });
});

describe('a key a language lacks', () => {
  it('reads in English (i18next fallbackLng), in a catalogue with a gap', () => {
    const catalogue = loadCatalogue(fileURLToPath(new URL('../fixtures/locales-partial/', import.meta.url)));
    const german = catalogue.locale('de');
    assert.equal(german.t('login.heading'), 'Anmelden');
    assert.equal(german.t('login.lead', { client: 'Acme' }), 'um mit Acme fortzufahren');
    assert.equal(german.t('login.submit'), 'Sign in', 'the missing key falls back to English');
  });

  it('renders the English text on a German page built from that catalogue, German around it', () => {
    const catalogue = loadCatalogue(fileURLToPath(new URL('../fixtures/locales-partial/', import.meta.url)));
    const html = renderView(
      'login',
      { clientName: 'Acme', formAction: '/x', csrfToken: 'c', ssoConnectors: [] },
      catalogue.locale('de'),
    );
    assert.match(html, /<html lang="de">/);
    assert.match(html, /<h1>Anmelden<\/h1>/);
    assert.match(html, /um mit <strong class="client-name">Acme<\/strong> fortzufahren/);
    assert.match(html, /<button class="button button-primary" type="submit">Sign in<\/button>/);
  });
});
