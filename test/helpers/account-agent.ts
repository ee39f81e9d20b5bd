// A person on /account without a browser: real HTTP through Lock's sign-in (test/helpers/user-agent.ts).
import assert from 'node:assert/strict';
import { signIn } from './login-fixtures.ts';
import { UserAgent } from './user-agent.ts';

export const ACCOUNT_COOKIE = 'lock_account';

/** The overview's heading: the page a signed-in person sees at /account. */
export const OVERVIEW = /<h1>Your account<\/h1>/;

/** A fresh browser signed in to /account as `username`; the overview's HTML. */
export async function accountSignIn(issuer: string, username: string, password: string) {
  const agent = new UserAgent(issuer);
  const page = await signIn(agent, `${issuer}/account`, username, password);
  assert.match(page.html, OVERVIEW, `not signed in to /account:\n${page.html.slice(0, 600)}`);
  return { agent, html: page.html };
}

/** The page session's CSRF token from a page of it. */
export function csrfOf(html: string): string {
  const csrf = /name="csrf" value="([^"]+)"/.exec(html)?.[1];
  assert.ok(csrf, `no csrf field in:\n${html.replace(/[\s\S]*<main/, '').slice(0, 600)}`);
  return csrf;
}

/** The ids of the sessions listed with an "End this session" form, and the current one's position. */
export function listedSessions(html: string): string[] {
  return [...html.matchAll(/name="session" value="([^"]+)"/g)].map((match) => match[1]!);
}

/** Posts a form of the page session (no redirect followed): the raw response. */
export function post(agent: UserAgent, issuer: string, path: string, form: Record<string, string>) {
  return agent.request(`${issuer}${path}`, { form });
}

/** True when a response sends the browser to Lock's authorization endpoint to sign in again (prompt=login). */
export function sentToSignIn(response: Response, issuer: string, fresh = true): boolean {
  const location = response.headers.get('location') ?? '';
  if (response.status !== 303 || !location.startsWith(`${issuer}/auth?`)) return false;
  const url = new URL(location);
  return (
    url.searchParams.get('client_id') === 'lock-account' &&
    (!fresh || url.searchParams.get('prompt') === 'login')
  );
}
