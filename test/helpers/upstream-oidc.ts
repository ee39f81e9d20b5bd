// The upstream OpenID provider of the run (test/peers/upstream-oidc.ts) as the oidc connector's
// tests use it: its address, a client registered for a connector of a test's Lock, its test-only
// administration, the connector's YAML, and a sign-in through it over plain HTTP.
import { requirePeerEnv } from '../peers/peer.ts';
import { ALICE_PASSWORD, appRolesAndApi, webAppClient } from './login-fixtures.ts';
import { UserAgent } from './user-agent.ts';

const HINT = 'the upstream OpenID provider (test/peers/upstream-oidc.ts) starts with `npm test`';

export function upstreamOidc() {
  return {
    issuer: requirePeerEnv('LOCK_TEST_UPSTREAM_OIDC_ISSUER', HINT),
    adminToken: requirePeerEnv('LOCK_TEST_UPSTREAM_OIDC_ADMIN_TOKEN', HINT),
  };
}

/** People of the peer every test may sign in as (test/peers/upstream-oidc-server.ts). */
export const UPSTREAM_PEOPLE = {
  /** Verified email, groups engineers and db-admins. */
  ada: { username: 'ada', password: 'ada-password', sub: 'u-ada', email: 'ada@upstream.test' },
  /** Verified email, no groups. */
  grace: { username: 'grace', password: 'grace-password', sub: 'u-grace' },
  /** Claims alice@example.com (a local account's email) unverified. */
  eve: { username: 'eve', password: 'eve-password', sub: 'u-eve', email: 'alice@example.com' },
} as const;

/**
 * Registers a client for Lock's connector `connectorId` at the upstream (dynamic registration):
 * application_type native, so the loopback redirect URI matches whatever port the test's Lock has.
 */
export async function registerUpstreamClient(
  connectorId: string,
): Promise<{ clientId: string; clientSecret: string }> {
  const response = await fetch(`${upstreamOidc().issuer}/reg`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      application_type: 'native',
      redirect_uris: [`http://127.0.0.1/sso/${connectorId}/callback`],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    }),
  });
  const body = (await response.json()) as { client_id: string; client_secret: string };
  if (response.status !== 201)
    throw new Error(`client registration: HTTP ${response.status} ${JSON.stringify(body)}`);
  return { clientId: body.client_id, clientSecret: body.client_secret };
}

async function admin(path: string, body: unknown): Promise<Record<string, unknown>> {
  const { issuer, adminToken } = upstreamOidc();
  const response = await fetch(`${issuer}/test-admin/${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`upstream admin ${path}: HTTP ${response.status}`);
  return (await response.json()) as Record<string, unknown>;
}

/** The peer's test-only administration: a person of the test's own, their groups, disabling, revoking. */
export const upstreamAdmin = {
  async addPerson(person: {
    username: string;
    password: string;
    groups?: string[];
    email?: string;
    emailVerified?: boolean;
    name?: string;
  }): Promise<{ sub: string }> {
    return { sub: String((await admin('users', person)).sub) };
  },
  setGroups: (username: string, groups: string[]) =>
    admin(`users/${encodeURIComponent(username)}/groups`, { groups }),
  disable: (username: string) => admin(`users/${encodeURIComponent(username)}/disable`, {}),
  /** Destroys every grant of the person: their refresh tokens stop working. */
  revoke: (username: string) => admin(`users/${encodeURIComponent(username)}/revoke`, {}),
};

/**
 * A Lock whose login offers its own accounts (alice, with alice@example.com) and the oidc connector
 * `connectorId` ("Corporate SSO"), upstream groups mapped to roles: engineers → app_readonly,
 * db-admins → app_admin; the web-app client at `redirectUri`.
 */
export function oidcLockConfig(options: {
  connectorId: string;
  redirectUri: string;
  connectorConfig: Record<string, unknown>;
  name?: string;
}): string {
  return `
${appRolesAndApi()}
clients:
${webAppClient({ redirectUri: options.redirectUri })}
connectors:
  - { id: local, type: local, name: Lock account }
  - id: ${options.connectorId}
    type: oidc
    name: ${options.name ?? 'Corporate SSO'}
    config: ${JSON.stringify(options.connectorConfig)}
roleMappings:
  - { connector: ${options.connectorId}, group: engineers, roles: [app_readonly] }
  - { connector: ${options.connectorId}, group: db-admins, roles: [app_admin] }
users:
  - { username: alice, email: alice@example.com, name: Alice Liddell, password: "${ALICE_PASSWORD}", roles: [app_readwrite] }
`;
}

/** The connector's config for the peer with a registered client (http issuer: development flag on). */
export function peerConnectorConfig(
  client: { clientId: string; clientSecret: string },
  extra: Record<string, unknown> = {},
) {
  return {
    issuer: upstreamOidc().issuer,
    clientId: client.clientId,
    clientSecret: client.clientSecret,
    scopes: ['openid', 'profile', 'email', 'groups'],
    allowInsecureIssuer: true,
    ...extra,
  };
}

/**
 * A person signs in over plain HTTP: Lock's authorization URL (with `connector=<id>`, straight
 * upstream), the upstream's form, and back through Lock's callback to the client. `lock` keeps
 * Lock's cookies, a second agent the upstream's. `stopAtCallback` hands back Lock's callback URL
 * as the upstream sent it, unfollowed.
 */
export async function signInThroughUpstream(
  lock: UserAgent,
  authorizationUrl: string,
  person: { username: string; password: string },
  options: { stopAtCallback?: boolean } = {},
): Promise<{ callback: string; landed?: string; status: number; html: string }> {
  const { issuer } = upstreamOidc();
  const upstream = new UserAgent(issuer);
  const toUpstream = await lock.follow(authorizationUrl);
  if (!toUpstream.left?.startsWith(issuer))
    throw new Error(
      `Lock did not send the browser upstream: ${toUpstream.response.status} ${toUpstream.left ?? toUpstream.url}`,
    );
  const page = await upstream.follow(toUpstream.left);
  const html = await page.response.text();
  const action = /<form method="post" action="([^"]+)">/.exec(html)?.[1];
  if (!action) throw new Error(`no upstream sign-in form: ${html.slice(0, 300)}`);
  const back = await upstream.follow(new URL(action, page.url).toString(), {
    form: { username: person.username, password: person.password },
  });
  if (!back.left) throw new Error(`the upstream did not send the browser back: ${back.response.status}`);
  if (options.stopAtCallback) return { callback: back.left, status: back.response.status, html: '' };
  const done = await lock.follow(back.left);
  return {
    callback: back.left,
    ...(done.left !== undefined && { landed: done.left }),
    status: done.response.status,
    html: done.left ? '' : await done.response.text(),
  };
}
