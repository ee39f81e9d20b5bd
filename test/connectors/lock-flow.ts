import { createRemoteJWKSet, type JWTPayload, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import { type RunningLock, startLock } from '../helpers/lock.ts';
import { API, CALLBACK, signIn, webAppClient } from '../helpers/login-fixtures.ts';
import { authorizationRequest, redeem } from '../helpers/relying-party.ts';
import { UserAgent } from '../helpers/user-agent.ts';

const SECRET = 'conformance-secret-0123456789';
export const LOCAL_USER = { username: 'local-only', password: 'a local password that works' };
export const LOCAL_ADMIN = { username: 'local-admin', password: 'another local password' };
export const LOCAL_PLAIN = { username: 'PLAIN', password: 'a local password for PLAIN' };

/**
 * A Lock whose login page tries `connectors` in order (plus Lock's own accounts last), with the
 * directory groups `all-staff` → app_readonly and `admins` → app_admin, and one local user.
 */
export function lockConfig(connectors: Array<{ id: string; type: string; config?: object }>): string {
  const mapped = connectors.filter((connector) => connector.type !== 'local');
  return `
roles: [{ name: app_admin }, { name: app_readonly }]
resources: [{ id: ${API}, scopes: [read], roles: [app_admin, app_readonly] }]
clients:
${webAppClient({ secret: SECRET })}
connectors:
${connectors.map((connector) => `  - ${JSON.stringify({ name: connector.id, ...connector })}`).join('\n')}
  - { id: local, type: local, name: Lock account }
roleMappings:
${[...mapped.map((connector) => connector.id), 'local']
  .flatMap((id) => [
    `  - { connector: ${id}, group: all-staff, roles: [app_readonly] }`,
    `  - { connector: ${id}, group: admins, roles: [app_admin] }`,
  ])
  .join('\n')}
users:
  - { username: ${LOCAL_USER.username}, password: "${LOCAL_USER.password}", groups: [all-staff] }
  - { username: ${LOCAL_ADMIN.username}, password: "${LOCAL_ADMIN.password}", groups: [admins] }
  - { username: ${LOCAL_PLAIN.username}, password: "${LOCAL_PLAIN.password}" }
`;
}

export interface SignInResult {
  /** The login page's status and text when the sign-in did not reach the client. */
  status: number;
  page: string;
  tokens?: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers;
  access?: JWTPayload;
  idToken?: JWTPayload;
}

/** A relying party (the confidential web app) on a running Lock. */
export class RelyingParty {
  readonly lock: RunningLock;
  readonly #config: oidc.Configuration;
  readonly #jwks: ReturnType<typeof createRemoteJWKSet>;

  private constructor(lock: RunningLock, config: oidc.Configuration) {
    this.lock = lock;
    this.#config = config;
    this.#jwks = createRemoteJWKSet(new URL(`${lock.issuer}/jwks`));
  }

  static async start(config: string): Promise<RelyingParty> {
    const lock = await startLock({ config });
    const discovered = await oidc.discovery(new URL(lock.issuer), 'web-app', SECRET, undefined, {
      execute: [oidc.allowInsecureRequests],
    });
    return new RelyingParty(lock, discovered);
  }

  /** Signs in on Lock's login page and exchanges the code; `tokens` is there when it worked. */
  async signIn(username: string, password: string): Promise<SignInResult> {
    const request = await authorizationRequest(this.#config, {
      redirect_uri: CALLBACK,
      scope: 'openid profile email groups read',
      resource: API,
    });
    const { landed, status, html } = await signIn(
      new UserAgent(this.lock.issuer),
      request.url.toString(),
      username,
      password,
    );
    if (!landed?.startsWith(`${CALLBACK}?code=`)) return { status, page: text(html) };
    const tokens = await redeem(request, new URL(landed));
    return {
      status,
      page: '',
      tokens,
      access: await this.verifyAccessToken(tokens.access_token),
      idToken: tokens.claims() as JWTPayload,
    };
  }

  /**
   * Signs in through a redirect connector (`connector=<id>`, straight upstream): `upstream` takes
   * the browser (Lock's cookies in `agent`) from Lock's authorization URL to where it lands.
   */
  async signInThrough(
    connectorId: string,
    upstream: (
      agent: UserAgent,
      authorizationUrl: string,
    ) => Promise<{ landed?: string; status: number; html: string }>,
  ): Promise<SignInResult> {
    const request = await authorizationRequest(this.#config, {
      redirect_uri: CALLBACK,
      scope: 'openid profile email groups read',
      resource: API,
      connector: connectorId,
    });
    const { landed, status, html } = await upstream(new UserAgent(this.lock.issuer), request.url.toString());
    if (!landed?.startsWith(`${CALLBACK}?code=`)) return { status, page: text(html) };
    const tokens = await redeem(request, new URL(landed));
    return {
      status,
      page: '',
      tokens,
      access: await this.verifyAccessToken(tokens.access_token),
      idToken: tokens.claims() as JWTPayload,
    };
  }

  /** Uses a refresh token: the new access token's claims, or the OAuth error code. */
  async refresh(
    refreshToken: string,
  ): Promise<{ access?: JWTPayload; refreshToken?: string; error?: string }> {
    try {
      const tokens = await oidc.refreshTokenGrant(this.#config, refreshToken, { resource: API });
      return {
        access: await this.verifyAccessToken(tokens.access_token),
        refreshToken: tokens.refresh_token!,
      };
    } catch (error) {
      return { error: (error as { error?: string }).error ?? String(error) };
    }
  }

  async verifyAccessToken(token: string): Promise<JWTPayload> {
    return (await jwtVerify(token, this.#jwks, { issuer: this.lock.issuer, audience: API })).payload;
  }

  async close(): Promise<void> {
    await this.lock.close();
    await this.lock.database.drop();
  }
}

/** The visible text of a page (enough to find its messages). */
const text = (html: string) =>
  html
    .replace(/<[^>]+>/g, ' ')
    .replace(/&#39;|&rsquo;/g, '’')
    .replace(/\s+/g, ' ')
    .trim();
