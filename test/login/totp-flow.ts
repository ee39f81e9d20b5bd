// What the second-factor tests share: RFC 6238 written out independently of Lock's code, and a
// browser (real HTTP, cookies) that walks Lock's sign-in pages one form at a time.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { CALLBACK, WEB_SECRET } from '../helpers/login-fixtures.ts';
import { type AuthorizationRequest, redeem, startAuthorization } from '../helpers/relying-party.ts';
import { readLoginForm, UserAgent } from '../helpers/user-agent.ts';

/** RFC 6238 with node:crypto, independently of Lock's: HMAC-SHA1, 30 s, 6 digits. */
export function totpCode(secretBase32: string, at: number, stepOffset = 0): string {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 1000 / 30) + stepOffset));
  const mac = createHmac('sha1', base32Decode(secretBase32)).update(counter).digest();
  const offset = mac[mac.length - 1]! & 0x0f;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

function base32Decode(text: string): Buffer {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const character of text.replace(/=+$/, '')) {
    const value = alphabet.indexOf(character);
    assert.ok(value >= 0, `not base32: ${character}`);
    bits += value.toString(2).padStart(5, '0');
  }
  return Buffer.from((bits.match(/.{8}/g) ?? []).map((byte) => Number.parseInt(byte, 2)));
}

/** The key an enrolment page shows for typing by hand. */
export function enrolmentSecret(html: string): string {
  const shown = /id="totp-secret">([\s\S]*?)<\/code>/.exec(html);
  assert.ok(shown, `not an enrolment page:\n${html.replace(/[\s\S]*<main/, '').slice(0, 300)}`);
  return shown[1]!.replace(/<[^>]+>|\s/g, '');
}

/** The recovery codes a page lists. */
export function recoveryCodesOf(html: string): string[] {
  return [...html.matchAll(/<li><code>([a-z2-7]{4}(?:-[a-z2-7]{4}){3})<\/code><\/li>/g)].map(
    (match) => match[1]!,
  );
}

export interface Page {
  status: number;
  /** Where the page was served (absent once the browser left Lock). */
  url: string;
  html: string;
  /** The client URL the browser was sent to, if it left Lock. */
  left?: string;
}

/** One browser at Lock: its cookies, the page it is on, and the client's side of each sign-in. */
export class Browser {
  readonly agent: UserAgent;
  readonly issuer: string;
  page: Page = { status: 0, url: '', html: '' };
  #request: AuthorizationRequest | undefined;

  constructor(issuer: string) {
    this.issuer = issuer;
    this.agent = new UserAgent(issuer);
  }

  /** Goes to `url` (POSTing `form` if given) and follows Lock's redirects. */
  async open(url: string, form?: Record<string, string>): Promise<Page> {
    const { response, url: at, left } = await this.agent.follow(url, form ? { form } : {});
    this.page = {
      status: response.status,
      url: at ?? url,
      html: left ? '' : await response.text(),
      ...(left !== undefined && { left }),
    };
    return this.page;
  }

  /** A client (`web-app` and the like: the test CALLBACK, WEB_SECRET) starts a sign-in here. */
  async authorize(clientId: string, extra: Record<string, string> = {}): Promise<Page> {
    this.#request = await startAuthorization(
      this.issuer,
      { id: clientId, secret: WEB_SECRET },
      { redirect_uri: CALLBACK, scope: 'openid profile' },
    );
    for (const [name, value] of Object.entries(extra)) this.#request.url.searchParams.set(name, value);
    return this.open(this.#request.url.toString());
  }

  /** Submits the one form of the current page with `fields` (and its CSRF token). */
  submit(fields: Record<string, string> = {}): Promise<Page> {
    const { action, csrf } = readLoginForm(this.page.html);
    return this.open(new URL(action, this.page.url).toString(), { csrf, ...fields });
  }

  /** The form of the current page: where it posts and its CSRF token. */
  form(): { action: string; csrf: string } {
    const { action, csrf } = readLoginForm(this.page.html);
    return { action: new URL(action, this.page.url).toString(), csrf };
  }

  /** Where the sign-in ended: `signed in` with the ID token's claims, or the error the client got. */
  async outcome(): Promise<
    | { signedIn: true; username: string; amr: unknown; sub: string }
    | { signedIn: false; error: string | null; page: string }
  > {
    const { left } = this.page;
    if (!left?.startsWith(CALLBACK))
      return { signedIn: false, error: null, page: this.page.html.replace(/[\s\S]*<main/, '').slice(0, 200) };
    const callback = new URL(left);
    if (!callback.searchParams.has('code'))
      return { signedIn: false, error: callback.searchParams.get('error'), page: '' };
    const tokens = await redeem(this.#request!, callback);
    const claims = tokens.claims()!;
    return {
      signedIn: true,
      username: String(claims.preferred_username),
      amr: claims.amr,
      sub: String(claims.sub),
    };
  }
}
