import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A person at the GitHub-like server: `orgs` are what /user/orgs lists (Lock maps them to groups). */
export interface GitHubLikeUser {
  id: number;
  login: string;
  email?: string;
  name?: string;
  orgs: string[];
}

interface IssuedCode {
  user: string;
  clientId: string;
  redirectUri: string;
  challenge: string;
  scope: string;
}

interface IssuedToken {
  user: string;
  kind: 'access' | 'refresh';
}

export interface GitHubLikeOptions {
  clientId?: string;
  clientSecret?: string;
  /** Lock's callbacks: the redirect URIs registered for the client. */
  redirectUris?: string[];
  /** Or any redirect URI like this (a Lock whose port is not known yet). */
  redirectUriPattern?: RegExp;
  /** Whether the token endpoint issues refresh tokens (GitHub Apps with expiring tokens do). */
  refreshTokens?: boolean;
  users?: GitHubLikeUser[];
}

/**
 * A small OAuth 2.0 server shaped like GitHub's, over real HTTP: authorization code with PKCE
 * (S256 required), a client secret, single-use codes, bearer tokens for /user and /user/orgs,
 * and, for the tests, who signs in, which orgs a user has, revocation, refusals and a slow token
 * endpoint, all changeable while it runs.
 */
export class GitHubLike {
  readonly clientId: string;
  readonly clientSecret: string;
  /** The redirect URIs registered for the client (Lock's `/sso/<id>/callback`), changeable. */
  readonly redirectUris: Set<string>;
  readonly #redirectUriPattern: RegExp | undefined;
  refreshTokens: boolean;
  readonly users = new Map<string, GitHubLikeUser>();
  /** Who the authorization endpoint signs in (auto-approved); undefined: it answers access_denied. */
  signedIn: string | undefined;
  /** How long the token, user and orgs endpoints wait before they answer (a slow upstream). */
  delayMs = 0;
  /** Requests each path has had (e.g. `/user`), to tell whether Lock asked. */
  readonly hits = new Map<string, number>();
  readonly #codes = new Map<string, IssuedCode>();
  readonly #tokens = new Map<string, IssuedToken>();
  readonly #server: Server;
  readonly #open = new Set<ServerResponse>();
  #url = '';

  private constructor(options: GitHubLikeOptions) {
    this.clientId = options.clientId ?? 'lock-at-github-like';
    this.clientSecret = options.clientSecret ?? randomBytes(20).toString('hex');
    this.redirectUris = new Set(options.redirectUris);
    this.#redirectUriPattern = options.redirectUriPattern;
    this.refreshTokens = options.refreshTokens ?? false;
    for (const user of options.users ?? []) this.users.set(user.login, { ...user, orgs: [...user.orgs] });
    this.#server = createServer((request, response) => {
      this.#open.add(response);
      response.on('close', () => this.#open.delete(response));
      this.#handle(request, response).catch((error: unknown) => {
        if (!response.headersSent) json(response, 500, { message: String(error) });
      });
    });
  }

  static async start(options: GitHubLikeOptions = {}): Promise<GitHubLike> {
    const server = new GitHubLike(options);
    await new Promise<void>((resolve) => server.#server.listen(0, '127.0.0.2', resolve));
    server.#url = `http://127.0.0.2:${(server.#server.address() as AddressInfo).port}`;
    return server;
  }

  /** The server's origin, on 127.0.0.2: another site than Lock's 127.0.0.1, as GitHub is. */
  get url(): string {
    return this.#url;
  }

  /** The `oauth2` connector's config for this server (and `extra` over it). */
  connectorConfig(extra: Record<string, unknown> = {}): Record<string, unknown> {
    return {
      authorizationUrl: `${this.#url}/login/oauth/authorize`,
      tokenUrl: `${this.#url}/login/oauth/access_token`,
      userinfoUrl: `${this.#url}/user`,
      groupsUrl: `${this.#url}/user/orgs`,
      clientId: this.clientId,
      clientSecret: this.clientSecret,
      scopes: ['read:user', 'read:org'],
      claims: { id: 'id', username: 'login', email: 'email', name: 'name', groups: '[].login' },
      ...extra,
    };
  }

  /** Revokes every token issued to the user (GitHub: the user revoked the app's authorization). */
  revokeTokensOf(login: string): void {
    for (const [token, issued] of this.#tokens) if (issued.user === login) this.#tokens.delete(token);
  }

  setOrgs(login: string, orgs: string[]): void {
    this.users.get(login)!.orgs = [...orgs];
  }

  async close(): Promise<void> {
    for (const response of this.#open) response.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #handle(request: IncomingMessage, response: ServerResponse) {
    const url = new URL(request.url!, this.#url);
    this.hits.set(url.pathname, (this.hits.get(url.pathname) ?? 0) + 1);
    if (request.method === 'GET' && url.pathname === '/login/oauth/authorize')
      return this.#authorize(url, response);
    if (this.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    if (response.destroyed) return;
    if (request.method === 'POST' && url.pathname === '/login/oauth/access_token')
      return this.#token(request, response);
    if (request.method === 'GET' && url.pathname === '/user') return this.#user(request, response);
    if (request.method === 'GET' && url.pathname === '/user/orgs') return this.#orgs(request, response);
    json(response, 404, { message: 'Not Found' });
  }

  #authorize(url: URL, response: ServerResponse) {
    const query = url.searchParams;
    const redirectUri = query.get('redirect_uri');
    if (
      query.get('client_id') !== this.clientId ||
      redirectUri === null ||
      !(this.redirectUris.has(redirectUri) || this.#redirectUriPattern?.test(redirectUri))
    )
      return json(response, 400, { message: 'The redirect_uri is not associated with this application.' });
    const back = new URL(redirectUri);
    const state = query.get('state');
    if (state !== null) back.searchParams.set('state', state);
    const user = this.signedIn === undefined ? undefined : this.users.get(this.signedIn);
    if (!user) {
      back.searchParams.set('error', 'access_denied');
      back.searchParams.set('error_description', 'The user has denied your application access.');
    } else if (query.get('response_type') !== 'code' || query.get('code_challenge_method') !== 'S256') {
      back.searchParams.set('error', 'invalid_request');
    } else {
      const code = randomBytes(16).toString('hex');
      this.#codes.set(code, {
        user: user.login,
        clientId: this.clientId,
        redirectUri,
        challenge: query.get('code_challenge') ?? '',
        scope: query.get('scope') ?? '',
      });
      back.searchParams.set('code', code);
    }
    response.writeHead(302, { location: back.toString() }).end();
  }

  async #token(request: IncomingMessage, response: ServerResponse) {
    const form = new URLSearchParams(await readBody(request));
    const basic = /^Basic (.+)$/i.exec(request.headers.authorization ?? '')?.[1];
    const [basicId, basicSecret] = basic
      ? Buffer.from(basic, 'base64').toString().split(':').map(decodeURIComponent)
      : [];
    const clientId = basicId ?? form.get('client_id');
    const secret = basicSecret ?? form.get('client_secret') ?? '';
    // GitHub answers its refusals with HTTP 200 and an `error` member.
    if (clientId !== this.clientId || !sameText(secret, this.clientSecret))
      return json(response, 200, { error: 'incorrect_client_credentials' });
    const grantType = form.get('grant_type');
    if (grantType === 'authorization_code') {
      const code = form.get('code') ?? '';
      const issued = this.#codes.get(code);
      this.#codes.delete(code); // single use, whatever follows
      if (!issued || issued.redirectUri !== form.get('redirect_uri'))
        return json(response, 200, {
          error: 'bad_verification_code',
          error_description: 'The code passed is incorrect or expired.',
        });
      const verifier = form.get('code_verifier') ?? '';
      if (createHash('sha256').update(verifier).digest('base64url') !== issued.challenge)
        return json(response, 200, {
          error: 'bad_verification_code',
          error_description: 'PKCE verification failed',
        });
      return json(response, 200, this.#issue(issued.user, issued.scope));
    }
    if (grantType === 'refresh_token') {
      const token = form.get('refresh_token') ?? '';
      const issued = this.#tokens.get(token);
      if (issued?.kind !== 'refresh' || !this.users.has(issued.user))
        return json(response, 200, {
          error: 'bad_refresh_token',
          error_description: 'The refresh token passed is incorrect or expired.',
        });
      this.#tokens.delete(token); // rotated
      return json(response, 200, this.#issue(issued.user, 'read:user read:org'));
    }
    json(response, 400, { error: 'unsupported_grant_type' });
  }

  #issue(user: string, scope: string): Record<string, unknown> {
    const accessToken = `gho_${randomBytes(16).toString('hex')}`;
    this.#tokens.set(accessToken, { user, kind: 'access' });
    const answer: Record<string, unknown> = { access_token: accessToken, token_type: 'bearer', scope };
    if (this.refreshTokens) {
      const refreshToken = `ghr_${randomBytes(16).toString('hex')}`;
      this.#tokens.set(refreshToken, { user, kind: 'refresh' });
      Object.assign(answer, { refresh_token: refreshToken, expires_in: 28_800 });
    }
    return answer;
  }

  #bearer(request: IncomingMessage): GitHubLikeUser | undefined {
    // GitHub's API refuses requests without a User-Agent.
    if (!request.headers['user-agent']) return undefined;
    const token = /^(?:Bearer|token) (.+)$/i.exec(request.headers.authorization ?? '')?.[1] ?? '';
    const issued = this.#tokens.get(token);
    return issued?.kind === 'access' ? this.users.get(issued.user) : undefined;
  }

  #user(request: IncomingMessage, response: ServerResponse) {
    const user = this.#bearer(request);
    if (!user) return json(response, 401, { message: 'Bad credentials' });
    json(response, 200, {
      id: user.id,
      login: user.login,
      email: user.email ?? null,
      name: user.name ?? null,
      type: 'User',
    });
  }

  #orgs(request: IncomingMessage, response: ServerResponse) {
    const user = this.#bearer(request);
    if (!user) return json(response, 401, { message: 'Bad credentials' });
    json(
      response,
      200,
      user.orgs.map((login, index) => ({ login, id: 1000 + index, url: `${this.#url}/orgs/${login}` })),
    );
  }
}

function json(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(body));
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString();
}

function sameText(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}
