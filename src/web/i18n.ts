// The message catalogue of every page and mail a person reads: one JSON file per language in
// views/locales/ (`<language>.json`, nested by page: `login.title`), read and handed to i18next
// once, when this module is imported. Adding a language is adding its file; English (en.json) is
// the reference every other file is checked against (test/interactions/catalogue.test.ts) and the
// fallback of any key a language lacks.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import i18next, { type i18n } from 'i18next';

/** The reference language, and the fallback of a key another language lacks. */
export const ENGLISH = 'en';

/** Where the shipped catalogue lives: one `<language>.json` per language. */
export const LOCALES_DIR = fileURLToPath(new URL('../../views/locales/', import.meta.url));

/** Placeholder values for interpolation (`{{client}}` in a message). */
export type MessageValues = Record<string, string | number>;

/**
 * A message of the catalogue in one language. The text is NOT escaped for HTML: the templates
 * escape it (`<%= %>`), and a mail's text part needs none.
 */
export type Translate = (key: string, values?: MessageValues) => string;

/** A language chosen for a person: its tag (for `<html lang>`, `Content-Language`) and its messages. */
export interface Locale {
  language: string;
  t: Translate;
}

export interface Catalogue {
  /** The languages of the catalogue's files, English first. */
  languages: readonly string[];
  /** The messages of `language` (one of `languages`); a key it lacks reads in English. */
  locale(language: string): Locale;
}

const LANGUAGE_FILE = /^([a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*)\.json$/;

/** Reads every `<language>.json` of `dir` into one i18next instance (synchronously). */
export function loadCatalogue(dir: string): Catalogue {
  const resources: Record<string, { translation: Record<string, unknown> }> = {};
  for (const file of readdirSync(dir).sort()) {
    const language = LANGUAGE_FILE.exec(file)?.[1];
    if (language === undefined) continue;
    const messages: unknown = JSON.parse(readFileSync(`${dir}/${file}`, 'utf8'));
    if (typeof messages !== 'object' || messages === null || Array.isArray(messages))
      throw new Error(`${dir}/${file}: a message catalogue is a JSON object`);
    resources[language] = { translation: messages as Record<string, unknown> };
  }
  if (!resources[ENGLISH]) throw new Error(`${dir}: ${ENGLISH}.json, the reference catalogue, is missing`);
  const instance: i18n = i18next.createInstance();
  void instance.init({
    resources,
    lng: ENGLISH,
    fallbackLng: ENGLISH,
    supportedLngs: Object.keys(resources),
    // Resources are in memory: init completes before it returns, so rendering stays synchronous.
    initAsync: false,
    // Keys are dotted paths; a ':' in English text given where a key was expected stays text.
    nsSeparator: false,
    // The templates escape every value they print (`<%= %>`); escaping here would escape twice.
    interpolation: { escapeValue: false },
    returnNull: false,
    returnEmptyString: false,
  });
  const languages = [ENGLISH, ...Object.keys(resources).filter((language) => language !== ENGLISH)];
  const locales = new Map<string, Locale>(
    languages.map((language) => {
      const fixed = instance.getFixedT(language);
      return [language, { language, t: (key, values) => fixed(key, values ?? {}) }];
    }),
  );
  return {
    languages,
    locale(language) {
      const found = locales.get(language);
      if (!found) throw new Error(`no message catalogue for the language ${JSON.stringify(language)}`);
      return found;
    },
  };
}

/** Lock's catalogue: views/locales/*.json, loaded once. */
export const CATALOGUE: Catalogue = loadCatalogue(LOCALES_DIR);

/** The shipped languages (file names of views/locales/), English first. */
export const LANGUAGES: readonly string[] = CATALOGUE.languages;

/** The messages of a shipped language: `localeOf('de').t('login.title')`. */
export function localeOf(language: string): Locale {
  return CATALOGUE.locale(language);
}

/**
 * Splits a message around one placeholder, for a template that wraps the value in markup
 * (`to continue to <strong>{{client}}</strong>`): [text before, text after], each to be escaped.
 */
export function around(
  t: Translate,
  key: string,
  name: string,
  values: MessageValues = {},
): [string, string] {
  const marker = '\u0000';
  const [before = '', after = ''] = t(key, { ...values, [name]: marker }).split(marker);
  return [before, after];
}
