// What the second-factor tests share: a browser (real HTTP, cookies) that walks Lock's sign-in
// pages one form at a time (RFC 6238 and the enrolment page's key: test/helpers/second-factor.ts).
import { CALLBACK, WEB_SECRET } from '../helpers/login-fixtures.ts';
import { type AuthorizationRequest, redeem, startAuthorization } from '../helpers/relying-party.ts';
import { readLoginForm, UserAgent } from '../helpers/user-agent.ts';

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
