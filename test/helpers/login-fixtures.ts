import { SECRET } from './fixtures.ts';
import { redeem, startAuthorization } from './relying-party.ts';
import { readLoginForm, UserAgent } from './user-agent.ts';

export const ALICE_PASSWORD = 'correct horse battery staple';
export const BOB_PASSWORD = 'Tr0ub4dor&3-but-longer';
export const WEB_SECRET = SECRET;
export const CALLBACK = 'https://app.example.com/callback';
export const CLI_CALLBACK = 'http://127.0.0.1:8765/callback';
export const API = 'https://db-api.example.com';

/**
 * The three application roles and the database API (`API`) they are granted for, with a `role`
 * claim and `web_anon` for a user with none: the `roles:` and `resources:` head of a config, to
 * which a caller may add more resources.
 */
export function appRolesAndApi(signingAlg?: 'ES256'): string {
  return [
    'roles:',
    '  - { name: app_admin }',
    '  - { name: app_readwrite }',
    '  - { name: app_readonly }',
    'resources:',
    `  - id: ${API}`,
    '    scopes: [read, write]',
    '    roles: [app_admin, app_readwrite, app_readonly]',
    '    roleClaim: role',
    '    defaultRole: web_anon',
    ...(signingAlg ? [`    signingAlg: ${signingAlg}`] : []),
  ].join('\n');
}

/** The first-party confidential `web-app` client of `API`, as an item of a config's `clients:` list. */
export function webAppClient({
  secret = WEB_SECRET,
  redirectUri = CALLBACK,
  postLogoutRedirectUri,
  refreshTokens = true,
}: {
  secret?: string;
  redirectUri?: string;
  postLogoutRedirectUri?: string;
  refreshTokens?: boolean;
} = {}): string {
  return [
    '  - clientId: web-app',
    `    clientSecret: ${secret}`,
    '    name: Web App',
    '    firstParty: true',
    `    redirectUris: [${JSON.stringify(redirectUri)}]`,
    ...(postLogoutRedirectUri
      ? [`    postLogoutRedirectUris: [${JSON.stringify(postLogoutRedirectUri)}]`]
      : []),
    ...(refreshTokens ? ['    grantTypes: [authorization_code, refresh_token]'] : []),
    `    resources: [${API}]`,
  ].join('\n');
}

/** `payroll`: a first-party client that requires a second factor of everyone, as an item of `clients:`. */
export const payrollClient = `  - clientId: payroll
    clientSecret: ${WEB_SECRET}
    firstParty: true
    requireMfa: true
    redirectUris: [${CALLBACK}]
`;

/** Users, groups, role mappings and the three kinds of client the login tests use. */
export const loginConfig = `
${appRolesAndApi('ES256')}
clients:
${webAppClient({ postLogoutRedirectUri: 'https://app.example.com/' })}
  - clientId: partner-app
    clientSecret: ${WEB_SECRET}
    name: Partner App
    redirectUris: [https://partner.example.com/cb]
    resources: [${API}]
  - clientId: cli-tool
    public: true
    redirectUris: [${CLI_CALLBACK}]
    resources: [${API}]
connectors:
  - { id: local, type: local, name: Lock account }
roleMappings:
  - { connector: local, group: editors, roles: [app_readwrite] }
users:
  - { username: alice, email: alice@example.com, name: Alice Liddell, password: "${ALICE_PASSWORD}", groups: [editors], roles: [app_admin] }
  - { username: bob, password: "${BOB_PASSWORD}", groups: [viewers] }
  - { username: carol, password: "${BOB_PASSWORD}", disabled: true }
`;

/**
 * Opens the authorization URL, signs in on Lock's page, answers a consent page if one comes
 * (`consent`: which button to press), and returns where the browser lands.
 */
export async function signIn(
  agent: UserAgent,
  authorizationUrl: string,
  username: string,
  password: string,
  consent: 'Allow' | 'Cancel' = 'Allow',
) {
  const page = await agent.follow(authorizationUrl);
  if (page.left) return { landed: page.left, status: page.response.status, html: '' };
  const form = readLoginForm(await page.response.text());
  let submitted = await agent.follow(new URL(form.action, page.url).toString(), {
    form: { csrf: form.csrf, username, password },
  });
  let html = submitted.left ? '' : await submitted.response.text();
  if (html.includes('Allow access?')) {
    const forms = [
      ...html.matchAll(
        /<form method="post" action="([^"]+)">\s*<input type="hidden" name="csrf" value="([^"]+)">\s*<button[^>]*>(\w+)</g,
      ),
    ];
    const chosen = forms.find((match) => match[3] === consent)!;
    submitted = await agent.follow(new URL(chosen[1]!, submitted.url).toString(), {
      form: { csrf: chosen[2]! },
    });
    html = submitted.left ? '' : await submitted.response.text();
  }
  return { landed: submitted.left, status: submitted.response.status, html };
}

/**
 * A user signs in to the `web-app` client (code + PKCE, for the API) on Lock's login page in a
 * fresh browser; `tokens` when they land on the client with a code, else the page they saw.
 */
export async function signInToWebApp(issuer: string, username: string, password: string) {
  const request = await startAuthorization(
    issuer,
    { id: 'web-app', secret: WEB_SECRET },
    { redirect_uri: CALLBACK, scope: 'openid', resource: API },
  );
  const result = await signIn(new UserAgent(issuer), request.url.toString(), username, password);
  const tokens = result.landed ? await redeem(request, new URL(result.landed)) : undefined;
  return { ...result, tokens, config: request.config };
}
