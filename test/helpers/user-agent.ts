/**
 * A browser-free user agent for the login flow: real HTTP, cookies kept per name, redirects
 * followed by hand until they leave the issuer (the client's callback).
 */
export class UserAgent {
  readonly #cookies = new Map<string, string>();
  readonly #origin: string;
  readonly #isClient: (url: URL) => boolean;

  /** `isClient` tells a client's URL on the issuer's own origin (e.g. the admin console's callback). */
  constructor(issuer: string, isClient: (url: URL) => boolean = () => false) {
    this.#origin = new URL(issuer).origin;
    this.#isClient = isClient;
  }

  /** `json`: a page script's call (a JSON body), e.g. the passkey endpoints. */
  async request(
    url: string,
    init: {
      method?: string;
      form?: Record<string, string>;
      json?: unknown;
      headers?: Record<string, string>;
    } = {},
  ) {
    const headers: Record<string, string> = { ...init.headers };
    const cookie = [...this.#cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    if (cookie && new URL(url).origin === this.#origin) headers.cookie = cookie;
    if (init.form) headers['content-type'] = 'application/x-www-form-urlencoded';
    if (init.json !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(url, {
      method: init.method ?? (init.form || init.json !== undefined ? 'POST' : 'GET'),
      headers,
      redirect: 'manual',
      ...(init.form && { body: new URLSearchParams(init.form) }),
      ...(init.json !== undefined && { body: JSON.stringify(init.json) }),
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const index = pair!.indexOf('=');
      const name = pair!.slice(0, index);
      const value = pair!.slice(index + 1);
      if (/expires=Thu, 01 Jan 1970/i.test(line) || value === '') this.#cookies.delete(name);
      else this.#cookies.set(name, value);
    }
    return response;
  }

  /** Follows redirects within the issuer; returns the last response and the URL that left it, if any. */
  async follow(
    url: string,
    init: { method?: string; form?: Record<string, string>; headers?: Record<string, string> } = {},
  ) {
    let response = await this.request(url, init);
    let current = url;
    for (let hops = 0; hops < 10 && response.status >= 300 && response.status < 400; hops++) {
      const next = new URL(response.headers.get('location')!, current).toString();
      if (new URL(next).origin !== this.#origin || this.#isClient(new URL(next)))
        return { response, left: next };
      current = next;
      response = await this.request(next, init.headers ? { headers: init.headers } : {});
    }
    return { response, url: current, left: undefined };
  }

  hasCookie(name: string): boolean {
    return this.#cookies.has(name);
  }

  /** A cookie's value as this agent holds it (undefined: none). */
  cookie(name: string): string | undefined {
    return this.#cookies.get(name);
  }
}

/** The login form's action and CSRF token from a rendered login page. */
export function readLoginForm(html: string): { action: string; csrf: string } {
  const action =
    /<form[^>]*method="post"[^>]*action="([^"]+)"/.exec(html)?.[1] ??
    /<form[^>]*action="([^"]+)"[^>]*method="post"/.exec(html)?.[1];
  const csrf = /name="csrf" value="([^"]+)"/.exec(html)?.[1];
  if (!action || !csrf)
    throw new Error(`no login form in the page:\n${html.replace(/[\s\S]*<main/, '').slice(0, 400)}`);
  return { action: action.replaceAll('&amp;', '&'), csrf };
}
