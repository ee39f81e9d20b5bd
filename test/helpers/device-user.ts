import { readLoginForm, type UserAgent } from './user-agent.ts';

/** The hidden `xsrf` of a device page's form. */
export function readXsrf(html: string): string {
  const xsrf = /name="xsrf" value="([^"]+)"/.exec(html)?.[1];
  if (!xsrf)
    throw new Error(`no device form in the page:\n${html.replace(/[\s\S]*<main/, '').slice(0, 400)}`);
  return xsrf;
}

/** A person at Lock's device page (no browser): opens it and types a user code. */
export async function enterUserCode(agent: UserAgent, issuer: string, userCode: string) {
  const page = await agent.request(`${issuer}/device`);
  const xsrf = readXsrf(await page.text());
  const response = await agent.request(`${issuer}/device`, { form: { xsrf, user_code: userCode } });
  return { status: response.status, html: await response.text() };
}

/**
 * The whole person's side of a device sign-in: the code, "Is this your device?" (Continue or Deny),
 * Lock's sign-in, then the approval screen (Allow or Cancel). The last page they see.
 */
export async function approveDevice(
  agent: UserAgent,
  issuer: string,
  userCode: string,
  person: { username: string; password: string },
  choice: 'Allow' | 'Cancel' | 'Deny' = 'Allow',
) {
  const confirm = await enterUserCode(agent, issuer, userCode);
  if (!confirm.html.includes('Is this your device?'))
    throw new Error(`no confirmation page: ${confirm.status} ${confirm.html.slice(0, 400)}`);
  const xsrf = readXsrf(confirm.html);
  const shown = /<input type="hidden" name="user_code" value="([^"]+)">/.exec(confirm.html)![1]!;
  if (choice === 'Deny') {
    const denied = await agent.request(`${issuer}/device`, {
      form: { xsrf, user_code: shown, abort: 'yes' },
    });
    return { status: denied.status, html: await denied.text(), consentHtml: '' };
  }
  const login = await agent.follow(`${issuer}/device`, { form: { xsrf, user_code: shown, confirm: 'yes' } });
  let html = await login.response.text();
  if (html.includes('name="password"')) {
    const form = readLoginForm(html);
    const signedIn = await agent.follow(new URL(form.action, login.url).toString(), {
      form: { csrf: form.csrf, username: person.username, password: person.password },
    });
    html = await signedIn.response.text();
  }
  const consentHtml = html;
  if (!html.includes('Allow access?')) throw new Error(`no approval screen: ${html.slice(0, 600)}`);
  const forms = [
    ...html.matchAll(
      /<form method="post" action="([^"]+)">\s*<input type="hidden" name="csrf" value="([^"]+)">\s*<button[^>]*>(\w+)</g,
    ),
  ];
  const chosen = forms.find((match) => match[3] === choice)!;
  const done = await agent.follow(new URL(chosen[1]!, issuer).toString(), { form: { csrf: chosen[2]! } });
  return { status: done.response.status, html: await done.response.text(), consentHtml };
}
