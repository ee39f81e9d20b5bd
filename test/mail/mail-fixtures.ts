// What the mail tests share: a Lock mailing through the suite's SMTP peer, with local accounts of
// addresses no other test file mails, and a sign-in that asks for the email scope.
import { appRolesAndApi, CALLBACK, signIn, WEB_SECRET, webAppClient } from '../helpers/login-fixtures.ts';
import { mailAddress } from '../helpers/mailbox.ts';
import { redeem, startAuthorization } from '../helpers/relying-party.ts';
import { UserAgent } from '../helpers/user-agent.ts';

export const MAIL_FROM = 'Lock <lock@mail.test>';

export interface MailPerson {
  username: string;
  email: string;
  password: string;
}

export function mailPerson(username: string): MailPerson {
  return { username, email: mailAddress(username), password: `${username} has a long passphrase` };
}

/** Roles, the API, the `web-app` client, local accounts only, and `people` (emails given). */
export function mailConfig(people: MailPerson[]): string {
  return `
${appRolesAndApi()}
clients:
${webAppClient()}
connectors:
  - { id: local, type: local, name: Lock account }
users:${people.length === 0 ? ' []' : ''}
${people.map((person) => `  - { username: ${person.username}, email: "${person.email}", password: "${person.password}" }`).join('\n')}
`;
}

/** Signs in to `web-app` with scope `openid email`: the tokens, or undefined when refused. */
export async function signInWithEmailScope(issuer: string, username: string, password: string) {
  const request = await startAuthorization(
    issuer,
    { id: 'web-app', secret: WEB_SECRET },
    { redirect_uri: CALLBACK, scope: 'openid email' },
  );
  const result = await signIn(new UserAgent(issuer), request.url.toString(), username, password);
  const tokens = result.landed ? await redeem(request, new URL(result.landed)) : undefined;
  return { tokens, config: request.config, html: result.html };
}

/** Posts a urlencoded form as a browser would; the status and the page. */
export async function postPage(
  url: string,
  form: Record<string, string>,
  headers: Record<string, string> = {},
) {
  const started = performance.now();
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form),
    redirect: 'manual',
  });
  const html = await response.text();
  return { status: response.status, html, headers: response.headers, elapsedMs: performance.now() - started };
}

export async function getPage(url: string, headers: Record<string, string> = {}) {
  const response = await fetch(url, { redirect: 'manual', headers });
  return { status: response.status, html: await response.text(), headers: response.headers };
}
