// The /account pages: eta templates in views/account/, in the login pages' layout, every `<%= %>`
// escaped, every word from the message catalogue (views/locales/*.json, `account.*`; docs/languages.md).
// A section renders its own part of the overview (a fragment, no layout) and may have pages of its
// own (a page, in the layout). Templates are read and compiled once, at import.
import { readdirSync, readFileSync } from 'node:fs';
import { Eta } from 'eta/core';
import { around, ENGLISH, type Locale, localeOf, type MessageValues } from '../../web/i18n.ts';
import { STYLESHEET_PATH, VIEWS_DIR } from '../views.ts';

const ACCOUNT_VIEWS_DIR = `${VIEWS_DIR}account/`;

const eta = new Eta({ autoEscape: true, cache: true });
eta.loadTemplate('@layout', readFileSync(`${VIEWS_DIR}layout.eta`, 'utf8'));
for (const file of readdirSync(ACCOUNT_VIEWS_DIR).filter((name) => name.endsWith('.eta')))
  eta.loadTemplate(`@account/${file.slice(0, -4)}`, readFileSync(`${ACCOUNT_VIEWS_DIR}${file}`, 'utf8'));

/** What every template reads its words with: `it.t('account.key', values)` and `it.around(…)`. */
const wordsOf = (locale: Locale) => ({
  t: locale.t,
  around: (key: string, placeholder: string, values?: MessageValues) =>
    around(locale.t, key, placeholder, values),
});

/**
 * A whole page: `views/account/<name>.eta`, which starts with `<% layout('@layout') %>`.
 * `title` is the catalogue key of the page's name; `error`, when set, puts "Error:" before it.
 */
export function renderAccountPage(
  name: string,
  data: { title: string; error?: string | undefined } & Record<string, unknown>,
  locale: Locale,
): string {
  const page = locale.t(data.title);
  return eta.render(`@account/${name}`, {
    ...data,
    ...wordsOf(locale),
    title: locale.t('layout.title', {
      page: data.error === undefined ? page : locale.t('layout.error_title', { page }),
    }),
    stylesheet: STYLESHEET_PATH,
    lang: locale.language,
  });
}

/**
 * A section's part of the overview: `views/account/<name>.eta`, without the layout. Sections call
 * `kit.renderFragment`, which passes the person's locale; without one, English.
 */
export function renderAccountFragment(
  name: string,
  data: Record<string, unknown>,
  locale: Locale = localeOf(ENGLISH),
): string {
  return eta.render(`@account/${name}`, { ...data, ...wordsOf(locale) });
}
