// A small upstream of the test's own, over real HTTP, that answers as the test tells it: discovery,
// a JWKS, an authorization endpoint that sends the browser straight back with a code, and a token
// endpoint that hands out whatever ID token the test forges (signed with jose). The oidc and oauth2
// connectors' attack tests use it to see what Lock refuses.
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  exportJWK,
  exportSPKI,
  generateKeyPair,
  type JWK,
  type JWTPayload,
  SignJWT,
  UnsecuredJWT,
} from 'jose';

// Yet another site than Lock (127.0.0.1) and the upstream peer (127.0.0.3).
const HOST = '127.0.0.4';

/** What the authorization endpoint received: the parameters Lock sent. */
export interface ForgedAuthorization {
  params: URLSearchParams;
  code: string;
}

/** A signing key of the forged upstream; `published` keys are in its JWKS. */
export interface ForgedKey {
  kid: string;
  alg: 'RS256';
  privateKey: CryptoKey;
  publicJwk: JWK;
  publicPem: string;
}

export interface ForgedUpstream {
  issuer: string;
  /** The key its JWKS publishes. */
  key: ForgedKey;
  /** The last authorization request Lock sent. */
  lastAuthorization(): ForgedAuthorization | undefined;
  /**
   * How the authorization endpoint answers (the callback's query; by default code, state, iss)
   * and what ID token the token endpoint returns for the code (by default a valid one).
   */
  answer(behaviour: Partial<ForgedBehaviour>): void;
  /** Codes the token endpoint redeemed, in order. */
  redeemed: string[];
  /** How many requests reached the token endpoint (redeemed or not). */
  tokenRequests(): number;
  close(): Promise<void>;
}

export interface ForgedBehaviour {
  callback(authorization: ForgedAuthorization, issuer: string): Record<string, string>;
  idToken(claims: JWTPayload, authorization: ForgedAuthorization): Promise<string>;
  /** Extra members of the token response (or replacements). */
  tokenResponse?: Record<string, unknown>;
  /** Extra or replaced claims of the ID token. */
  claims?: JWTPayload;
  /** Userinfo's answer (none: no userinfo endpoint is advertised). */
  userinfo?: Record<string, unknown>;
}

/** A fresh RSA signing key (not published unless it is the upstream's). */
export async function forgedKey(kid = randomBytes(6).toString('hex')): Promise<ForgedKey> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  return {
    kid,
    alg: 'RS256',
    privateKey,
    publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' },
    publicPem: await exportSPKI(publicKey),
  };
}

/** Signs claims as an ID token with `key` (RS256, its kid), as a well-behaved upstream would. */
export function signIdToken(claims: JWTPayload, key: ForgedKey): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'JWT' })
    .sign(key.privateKey);
}

/** An unsigned token (`alg: none`). */
export const unsignedIdToken = (claims: JWTPayload): string => new UnsecuredJWT(claims).encode();

/** HS256 keyed with the upstream's public key (PEM bytes): the algorithm-confusion forgery. */
export function hmacWithPublicKey(claims: JWTPayload, key: ForgedKey): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', kid: key.kid, typ: 'JWT' })
    .sign(new TextEncoder().encode(key.publicPem));
}

export async function startForgedUpstream(options: { clientId: string }): Promise<ForgedUpstream> {
  const key = await forgedKey();
  const authorizations = new Map<string, ForgedAuthorization>();
  let last: ForgedAuthorization | undefined;
  const redeemed: string[] = [];
  let tokenRequests = 0;
  let issuer = '';
  const defaults: ForgedBehaviour = {
    callback: (authorization, iss) => ({
      code: authorization.code,
      state: authorization.params.get('state')!,
      iss,
    }),
    idToken: (claims) => signIdToken(claims, key),
  };
  let behaviour: ForgedBehaviour = defaults;

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      res.writeHead(500);
      res.end(String(error));
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', issuer);
    if (url.pathname === '/.well-known/openid-configuration')
      return json(res, 200, {
        issuer,
        authorization_endpoint: `${issuer}/authorize`,
        token_endpoint: `${issuer}/token`,
        jwks_uri: `${issuer}/jwks`,
        ...(behaviour.userinfo && { userinfo_endpoint: `${issuer}/userinfo` }),
        response_types_supported: ['code'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['RS256'],
        code_challenge_methods_supported: ['S256'],
        token_endpoint_auth_methods_supported: ['client_secret_basic'],
        authorization_response_iss_parameter_supported: true,
      });
    if (url.pathname === '/jwks') return json(res, 200, { keys: [key.publicJwk] });
    if (url.pathname === '/authorize') {
      const authorization = { params: url.searchParams, code: randomBytes(16).toString('base64url') };
      authorizations.set(authorization.code, authorization);
      last = authorization;
      const back = new URL(url.searchParams.get('redirect_uri')!);
      for (const [name, value] of Object.entries(behaviour.callback(authorization, issuer)))
        back.searchParams.set(name, value);
      res.writeHead(303, { location: back.toString() });
      return res.end();
    }
    if (url.pathname === '/token' && req.method === 'POST') {
      tokenRequests++;
      const form = new URLSearchParams(await body(req));
      const code = form.get('code') ?? '';
      const authorization = authorizations.get(code);
      // Codes are single use, and the PKCE verifier must match the challenge Lock sent.
      authorizations.delete(code);
      const challenge = createHash('sha256')
        .update(form.get('code_verifier') ?? '')
        .digest('base64url');
      if (!authorization || authorization.params.get('code_challenge') !== challenge)
        return json(res, 400, { error: 'invalid_grant', error_description: 'unknown code or PKCE mismatch' });
      redeemed.push(code);
      const now = Math.floor(Date.now() / 1000);
      const claims: JWTPayload = {
        iss: issuer,
        sub: 'forged-person',
        aud: options.clientId,
        iat: now,
        exp: now + 300,
        nonce: authorization.params.get('nonce')!,
        preferred_username: 'forged',
        ...behaviour.claims,
      };
      return json(res, 200, {
        access_token: randomBytes(16).toString('base64url'),
        token_type: 'Bearer',
        expires_in: 300,
        id_token: await behaviour.idToken(claims, authorization),
        ...behaviour.tokenResponse,
      });
    }
    if (url.pathname === '/userinfo' && behaviour.userinfo) return json(res, 200, behaviour.userinfo);
    json(res, 404, { error: 'not_found' });
  }

  await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
  issuer = `http://${HOST}:${(server.address() as AddressInfo).port}`;
  return {
    issuer,
    key,
    lastAuthorization: () => last,
    answer(changes) {
      behaviour = { ...defaults, ...changes };
    },
    redeemed,
    tokenRequests: () => tokenRequests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function json(res: ServerResponse, status: number, value: unknown) {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(value));
}

async function body(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
