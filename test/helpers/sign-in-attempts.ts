// Login forms of fresh sign-in interactions, posted as a browser would, for the tests of the
// password sign-in under attack (bursts, aliases, timing, floods).
import { createHash, randomBytes } from 'node:crypto';
import { CALLBACK } from './login-fixtures.ts';
import { readLoginForm, UserAgent } from './user-agent.ts';

export interface PostResult {
  status: number;
  /** What the person sees: signed in (back at the client with a code), or the page's words. */
  outcome: 'signed in' | 'refused' | 'too many attempts' | 'busy' | 'other';
  retryAfter: string | null;
  elapsedMs: number;
}

/** `web-app` (first party, no consent page) starts a sign-in on `issuer`; the result posts its form. */
export async function openLoginForm(issuer: string) {
  const url = new URL(`${issuer}/auth`);
  for (const [name, value] of Object.entries({
    client_id: 'web-app',
    response_type: 'code',
    scope: 'openid',
    redirect_uri: CALLBACK,
    code_challenge: createHash('sha256').update(randomBytes(32)).digest('base64url'),
    code_challenge_method: 'S256',
  }))
    url.searchParams.set(name, value);
  const agent = new UserAgent(issuer);
  const page = await agent.follow(url.toString());
  const form = readLoginForm(await page.response.text());
  const action = new URL(form.action, page.url!).toString();
  return async (username: string, password: string): Promise<PostResult> => {
    const started = performance.now();
    const { response, left } = await agent.follow(action, { form: { csrf: form.csrf, username, password } });
    const html = left ? '' : await response.text();
    const elapsedMs = performance.now() - started;
    const outcome =
      left && new URL(left).searchParams.has('code')
        ? 'signed in'
        : response.status === 401 && html.includes('Incorrect username or password.')
          ? 'refused'
          : response.status === 429 && html.includes('Too many attempts')
            ? 'too many attempts'
            : response.status === 503 && html.includes('busy')
              ? 'busy'
              : 'other';
    return { status: response.status, outcome, retryAfter: response.headers.get('retry-after'), elapsedMs };
  };
}

/** One post from a sign-in of its own. */
export async function postOnce(issuer: string, username: string, password: string): Promise<PostResult> {
  return (await openLoginForm(issuer))(username, password);
}

export const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};
