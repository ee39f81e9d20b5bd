// The /account pages: eta templates in views/account/, in the login pages' layout, every `<%= %>`
// escaped. A section renders its own part of the overview (a fragment, no layout) and may have
// pages of its own (a page, in the layout). Templates are read and compiled once, at import.
import { readdirSync, readFileSync } from 'node:fs';
import { Eta } from 'eta/core';
import { ENGLISH, localeOf } from '../../web/i18n.ts';
import { STYLESHEET_PATH, VIEWS_DIR } from '../views.ts';

const ACCOUNT_VIEWS_DIR = `${VIEWS_DIR}account/`;

const eta = new Eta({ autoEscape: true, cache: true });
eta.loadTemplate('@layout', readFileSync(`${VIEWS_DIR}layout.eta`, 'utf8'));
for (const file of readdirSync(ACCOUNT_VIEWS_DIR).filter((name) => name.endsWith('.eta')))
  eta.loadTemplate(`@account/${file.slice(0, -4)}`, readFileSync(`${ACCOUNT_VIEWS_DIR}${file}`, 'utf8'));

/**
 * A whole page: `views/account/<name>.eta`, which starts with `<% layout('@layout') %>`. `title`
 * becomes the <title> (" – Lock" is added).
 */
export function renderAccountPage(name: string, data: { title: string } & Record<string, unknown>): string {
  // The layout reads its words through `it.t` (docs/languages.md): English unless the page passes its locale's.
  const english = localeOf(ENGLISH);
  return eta.render(`@account/${name}`, {
    lang: english.language,
    t: english.t,
    ...data,
    title: `${data.title} – Lock`,
    stylesheet: STYLESHEET_PATH,
  });
}

/** A section's part of the overview: `views/account/<name>.eta`, without the layout. */
export function renderAccountFragment(name: string, data: Record<string, unknown>): string {
  return eta.render(`@account/${name}`, data);
}

/** Form actions and links are ours, but a `javascript:` or `data:` URL is refused outright. */
export function accountHref(path: string): string {
  if (!path.startsWith('/account') && !path.startsWith('/session/end'))
    throw new TypeError('an /account link points under /account');
  return path;
}
