// Which language a page speaks to the person reading it (docs/languages.md): the authorization
// request's `ui_locales` first (OpenID Connect Core §3.1.2.1), then the browser's Accept-Language,
// then LOCK_DEFAULT_LOCALE, then English. Only languages the catalogue ships are chosen.
import { ENGLISH, LANGUAGES, type Locale, localeOf } from './i18n.ts';

/** What the choice reads of a request: Lock's own Koa context and oidc-provider's both fit. */
export interface LocaleContext {
  get(field: string): string;
  state: { defaultLocale?: string | undefined };
}

/** Long headers are cut: no browser sends more than a handful of languages. */
const MAX_HEADER_LENGTH = 1024;
const MAX_RANGES = 32;

/**
 * The locale of the page answering `ctx`: `uiLocales` (the interaction's `ui_locales` parameter,
 * when there is one), then Accept-Language, then the default (LOCK_DEFAULT_LOCALE, which the edge
 * puts into ctx.state), then English.
 */
export function localeFor(ctx: LocaleContext, uiLocales?: unknown): Locale {
  return localeOf(
    chooseLanguage({
      uiLocales: typeof uiLocales === 'string' ? uiLocales : undefined,
      acceptLanguage: ctx.get('accept-language'),
      defaultLanguage: ctx.state.defaultLocale,
    }),
  );
}

/** The language to speak, from what the request asks and the server's default; one of `languages`. */
export function chooseLanguage(
  asked: {
    uiLocales?: string | undefined;
    acceptLanguage?: string | undefined;
    defaultLanguage?: string | undefined;
  },
  languages: readonly string[] = LANGUAGES,
): string {
  const shipped = lowerCased(languages);
  const first = (ranges: string[]) => {
    for (const range of ranges) {
      const found = matchLanguage(range, shipped);
      if (found !== undefined) return found;
    }
    return undefined;
  };
  return (
    first(uiLocaleTags(asked.uiLocales)) ??
    first(acceptLanguageRanges(asked.acceptLanguage)) ??
    (asked.defaultLanguage !== undefined ? matchLanguage(asked.defaultLanguage, shipped) : undefined) ??
    ENGLISH
  );
}

const LOWER_CASED = new WeakMap<readonly string[], ReadonlyMap<string, string>>();

/** The shipped languages by their lower-cased tag, built once per list. */
function lowerCased(languages: readonly string[]): ReadonlyMap<string, string> {
  let map = LOWER_CASED.get(languages);
  if (!map) {
    map = new Map(languages.map((language) => [language.toLowerCase(), language]));
    LOWER_CASED.set(languages, map);
  }
  return map;
}

/** `de-CH` is served by `de-CH` if shipped, else by `de`; `*` and malformed tags by nothing. */
function matchLanguage(tag: string, shipped: ReadonlyMap<string, string>): string | undefined {
  if (!/^[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*$/.test(tag)) return undefined;
  const subtags = tag.toLowerCase().split('-');
  for (let length = subtags.length; length > 0; length--) {
    const found = shipped.get(subtags.slice(0, length).join('-'));
    if (found !== undefined) return found;
  }
  return undefined;
}

/** `ui_locales`: space-separated BCP 47 tags, most preferred first. */
function uiLocaleTags(value: string | undefined): string[] {
  if (value === undefined) return [];
  return value.slice(0, MAX_HEADER_LENGTH).split(' ').filter(Boolean).slice(0, MAX_RANGES);
}

/** Accept-Language (RFC 9110 §12.5.4): language ranges by descending q, ties in the order given; q=0 never. */
function acceptLanguageRanges(header: string | undefined): string[] {
  if (header === undefined || header === '') return [];
  const ranges: Array<{ range: string; q: number; index: number }> = [];
  for (const [index, item] of header.slice(0, MAX_HEADER_LENGTH).split(',').slice(0, MAX_RANGES).entries()) {
    const [range = '', ...parameters] = item.split(';').map((part) => part.trim());
    let q = 1;
    for (const parameter of parameters) {
      const weight = /^q=([01](?:\.\d{0,3})?)$/i.exec(parameter);
      if (weight) q = Number(weight[1]);
    }
    if (range !== '' && q > 0) ranges.push({ range, q, index });
  }
  return ranges.sort((a, b) => b.q - a.q || a.index - b.index).map(({ range }) => range);
}
