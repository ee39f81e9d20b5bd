import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { createPublicKey, generateKeyPairSync, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  createLocalJWKSet,
  exportJWK,
  generateKeyPair,
  type JSONWebKeySet,
  type JWK,
  jwtVerify,
  SignJWT,
  UnsecuredJWT,
} from 'jose';
import { clientSchema } from '../../src/model/client.ts';
import { ADMIN_PASSWORD, adminApi, consoleToken } from '../admin/admin-api.ts';
import { startWorkers } from '../helpers/cluster.ts';
import { type RunningLock, startLock } from '../helpers/lock.ts';
import { API } from '../helpers/login-fixtures.ts';

const OPAQUE_API = 'https://opaque.example.com';
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

type PrivateKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
interface ClientKey {
  alg: string;
  kid: string;
  privateKey: PrivateKey;
  publicJwk: JWK;
  privateJwk: JWK;
}

async function clientKey(alg: 'RS256' | 'ES256' | 'EdDSA', kid: string): Promise<ClientKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return {
    alg,
    kid,
    privateKey,
    publicJwk: { ...(await exportJWK(publicKey)), kid, use: 'sig' },
    privateJwk: { ...(await exportJWK(privateKey)), kid },
  };
}

/** A client assertion (RFC 7523 §3): iss = sub = client id, a fresh jti, a short exp. */
function assertion(
  clientId: string,
  key: ClientKey,
  claims: { aud: string | string[]; exp?: number | string; jti?: string },
) {
  return new SignJWT({})
    .setProtectedHeader({ alg: key.alg, kid: key.kid })
    .setIssuer(clientId)
    .setSubject(clientId)
    .setAudience(claims.aud)
    .setJti(claims.jti ?? randomUUID())
    .setIssuedAt()
    .setExpirationTime(claims.exp ?? '1m')
    .sign(key.privateKey);
}

/** A JWK set served over real HTTP, as a client publishes it; what it serves can change. */
async function jwksServer() {
  const served = new Map<string, JSONWebKeySet>();
  const server: Server = createServer((request, response) => {
    const jwks = served.get(request.url ?? '');
    response.writeHead(jwks ? 200 : 404, {
      'content-type': 'application/json',
      'cache-control': 'max-age=0',
    });
    response.end(JSON.stringify(jwks ?? {}));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: (path: string) => `${base}${path}`,
    serve: (path: string, keys: ClientKey[]) => served.set(path, { keys: keys.map((key) => key.publicJwk) }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * A form POST from an address of its own (X-Forwarded-For, Lock trusting one proxy hop): the
 * failed-authentication guard counts per address, and this file fails on purpose far more often
 * than its threshold — each refusal here must be the assertion's, not the guard's 429.
 */
let addresses = 0;
async function postForm(url: string, form: Record<string, string>, basic?: [string, string]) {
  const n = ++addresses;
  const headers: Record<string, string> = {
    'content-type': 'application/x-www-form-urlencoded',
    'x-forwarded-for': `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`,
  };
  if (basic) headers.authorization = `Basic ${Buffer.from(`${basic[0]}:${basic[1]}`).toString('base64')}`;
  const response = await fetch(url, { method: 'POST', headers, body: new URLSearchParams(form) });
  const text = await response.text();
  return { status: response.status, body: (text === '' ? {} : JSON.parse(text)) as Record<string, unknown> };
}

const inlineKey = await clientKey('RS256', 'inline-1');
const uriKey = await clientKey('ES256', 'uri-1');
const rotateOld = await clientKey('EdDSA', 'rotate-old');
const rotateNew = await clientKey('ES256', 'rotate-new');
const strangerKey = await clientKey('RS256', 'inline-1'); // same kid as the registered key, another key
const keysAt = await jwksServer();
keysAt.serve('/keyed-uri/jwks.json', [uriKey]);
keysAt.serve('/rotating/jwks.json', [rotateOld]);

const config = `
roles:
  - { name: app_readwrite }
resources:
  - { id: ${API}, scopes: [read], roles: [app_readwrite] }
  - { id: ${OPAQUE_API}, scopes: [read], roles: [app_readwrite], accessTokenFormat: opaque }
clients:
  - clientId: keyed-inline
    tokenEndpointAuthMethod: private_key_jwt
    jwks: ${JSON.stringify({ keys: [inlineKey.publicJwk] })}
    grantTypes: [client_credentials]
    roles: [app_readwrite]
    resources: [${API}, ${OPAQUE_API}]
  - clientId: keyed-uri
    tokenEndpointAuthMethod: private_key_jwt
    jwksUri: ${keysAt.url('/keyed-uri/jwks.json')}
    grantTypes: [client_credentials]
    roles: [app_readwrite]
    resources: [${API}]
  - clientId: rotating
    tokenEndpointAuthMethod: private_key_jwt
    jwksUri: ${keysAt.url('/rotating/jwks.json')}
    grantTypes: [client_credentials]
    resources: [${API}]
`;

describe('private_key_jwt: clients authenticate with a signed assertion, each used once', () => {
  let lock: RunningLock;
  let token: string;
  let jwks: ReturnType<typeof createLocalJWKSet>;
  const children: ChildProcess[] = [];

  before(async () => {
    lock = await startLock({
      config,
      env: { LOCK_BOOTSTRAP_ADMIN_PASSWORD: ADMIN_PASSWORD, LOCK_TRUST_PROXY: 'true' },
    });
    token = `${lock.issuer}/token`;
    jwks = createLocalJWKSet(await (await fetch(`${lock.issuer}/jwks`)).json());
  });
  after(async () => {
    for (const child of children) child.kill('SIGTERM');
    await lock.close();
    await lock.database.drop();
    await keysAt.close();
  });

  const withAssertion = (url: string, clientAssertion: string, form: Record<string, string> = {}) =>
    postForm(url, {
      client_assertion_type: ASSERTION_TYPE,
      client_assertion: clientAssertion,
      ...form,
    });
  const clientCredentials = (clientAssertion: string, url = token) =>
    withAssertion(url, clientAssertion, { grant_type: 'client_credentials', resource: API });
  const refused = (response: { status: number; body: Record<string, unknown> }, why: string) => {
    assert.equal(response.status, 401, `${why}: ${JSON.stringify(response.body)}`);
    assert.equal(response.body.error, 'invalid_client', why);
    assert.equal(response.body.access_token, undefined, why);
  };

  it('a client with inline keys gets a token with client credentials; aud may be the token endpoint or the issuer', async () => {
    for (const aud of [token, lock.issuer]) {
      const response = await clientCredentials(await assertion('keyed-inline', inlineKey, { aud }));
      assert.equal(response.status, 200, JSON.stringify(response.body));
      const { payload } = await jwtVerify(response.body.access_token as string, jwks, {
        issuer: lock.issuer,
        audience: API,
        typ: 'at+jwt',
      });
      assert.equal(payload.sub, 'keyed-inline');
      assert.deepEqual(payload.roles, ['app_readwrite']);
    }
  });

  it('a client whose keys are at its jwksUri (fetched over HTTP) gets a token', async () => {
    const response = await clientCredentials(await assertion('keyed-uri', uriKey, { aud: token }));
    assert.equal(response.status, 200, JSON.stringify(response.body));
    const { payload } = await jwtVerify(response.body.access_token as string, jwks, { audience: API });
    assert.equal(payload.client_id, 'keyed-uri');
  });

  it('introspection and revocation accept the same assertions (aud: their own endpoint)', async () => {
    const issued = await withAssertion(token, await assertion('keyed-inline', inlineKey, { aud: token }), {
      grant_type: 'client_credentials',
      resource: OPAQUE_API,
    });
    assert.equal(issued.status, 200, JSON.stringify(issued.body));
    const accessToken = issued.body.access_token as string;
    const introspection = `${lock.issuer}/token/introspection`;
    const revocation = `${lock.issuer}/token/revocation`;
    const active = await withAssertion(
      introspection,
      await assertion('keyed-inline', inlineKey, { aud: introspection }),
      { token: accessToken },
    );
    assert.equal(active.status, 200, JSON.stringify(active.body));
    assert.equal(active.body.active, true);
    const revoked = await withAssertion(
      revocation,
      await assertion('keyed-inline', inlineKey, { aud: revocation }),
      { token: accessToken },
    );
    assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
    const inactive = await withAssertion(
      introspection,
      await assertion('keyed-inline', inlineKey, { aud: lock.issuer }),
      { token: accessToken },
    );
    assert.deepEqual(inactive.body, { active: false });
    refused(
      await withAssertion(
        introspection,
        await assertion('keyed-inline', strangerKey, { aud: introspection }),
        {
          token: accessToken,
        },
      ),
      'introspection refuses an assertion signed with an unknown key',
    );
  });

  it('refuses a replayed assertion (same jti), also when 40 uses race', async () => {
    const once = await assertion('keyed-inline', inlineKey, { aud: token });
    assert.equal((await clientCredentials(once)).status, 200);
    refused(await clientCredentials(once), 'the second use');
    // A new jti in an otherwise identical assertion is a new assertion.
    const jti = randomUUID();
    const racing = await assertion('keyed-inline', inlineKey, { aud: token, jti });
    const answers = await Promise.all(Array.from({ length: 40 }, () => clientCredentials(racing)));
    assert.equal(answers.filter((answer) => answer.status === 200).length, 1, 'exactly one use wins');
    for (const answer of answers.filter((answer) => answer.status !== 200)) refused(answer, 'a racing use');
  });

  it('refuses a replayed assertion at a second Lock process on the same database', {
    timeout: 120_000,
  }, async () => {
    const second = await startWorkers(lock.database, {
      config,
      env: { LOCK_KEYS_DIR: lock.keysDir, LOG_LEVEL: 'silent', LOCK_TRUST_PROXY: 'true' },
      stdio: 'ignore',
    });
    children.push(second.child);
    for (let attempt = 0; ; attempt++) {
      const ready = await fetch(`${second.issuer}/readyz`).catch(() => undefined);
      if (ready?.status === 200) break;
      assert.ok(attempt < 300, 'the second Lock became ready');
      await sleep(200);
    }
    const secondToken = `${second.issuer}/token`;
    // One assertion both may accept: its audience names both token endpoints.
    const aud = [token, secondToken];
    const once = await assertion('keyed-inline', inlineKey, { aud });
    assert.equal((await clientCredentials(once)).status, 200, 'used at the first Lock');
    refused(await clientCredentials(once, secondToken), 'replayed at the second');
    const racing = await assertion('keyed-inline', inlineKey, { aud });
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) => clientCredentials(racing, i % 2 === 0 ? token : secondToken)),
    );
    assert.equal(answers.filter((answer) => answer.status === 200).length, 1, 'one use wins across both');
    for (const answer of answers.filter((answer) => answer.status !== 200)) refused(answer, 'a racing use');
    second.child.kill('SIGTERM');
  });

  it('refuses an assertion for another audience', async () => {
    for (const aud of [
      `${lock.issuer}/other`,
      'https://elsewhere.example.com/token',
      `${lock.issuer}/userinfo`,
    ])
      refused(await clientCredentials(await assertion('keyed-inline', inlineKey, { aud })), `aud ${aud}`);
  });

  it('refuses an assertion signed with a key the client did not register', async () => {
    refused(
      await clientCredentials(await assertion('keyed-inline', strangerKey, { aud: token })),
      'same kid, another key',
    );
    refused(
      await clientCredentials(await assertion('keyed-uri', inlineKey, { aud: token })),
      'a key not at the jwksUri',
    );
  });

  it('refuses an HMAC (HS256) assertion keyed with the client’s public key', async () => {
    // The classic confusion: the verifier's public key (PEM, JWK or modulus) used as an HMAC secret.
    const pem = createPublicKey({ key: inlineKey.publicJwk as never, format: 'jwk' }).export({
      type: 'spki',
      format: 'pem',
    });
    const publicKeyBytes = [
      new TextEncoder().encode(String(pem)),
      new TextEncoder().encode(JSON.stringify(inlineKey.publicJwk)),
      Buffer.from(inlineKey.publicJwk.n!, 'base64url'),
    ];
    for (const secret of publicKeyBytes) {
      const forged = await new SignJWT({})
        .setProtectedHeader({ alg: 'HS256', kid: inlineKey.kid })
        .setIssuer('keyed-inline')
        .setSubject('keyed-inline')
        .setAudience(token)
        .setJti(randomUUID())
        .setIssuedAt()
        .setExpirationTime('1m')
        .sign(secret);
      refused(await clientCredentials(forged), 'HS256 keyed with the public key');
    }
  });

  it('refuses an unsigned (alg: none) assertion', async () => {
    const unsigned = new UnsecuredJWT({})
      .setIssuer('keyed-inline')
      .setSubject('keyed-inline')
      .setAudience(token)
      .setJti(randomUUID())
      .setIssuedAt()
      .setExpirationTime('1m')
      .encode();
    refused(await clientCredentials(unsigned), 'alg none');
  });

  it('refuses an expired assertion, and one that lives longer than 5 minutes', async () => {
    const now = Math.floor(Date.now() / 1000);
    refused(
      await clientCredentials(await assertion('keyed-inline', inlineKey, { aud: token, exp: now - 120 })),
      'expired',
    );
    refused(
      await clientCredentials(await assertion('keyed-inline', inlineKey, { aud: token, exp: now + 3600 })),
      'an hour long',
    );
  });

  it('a private_key_jwt client cannot use a secret', async () => {
    const secret = 'any-secret-at-all-0123456789';
    refused(
      await postForm(token, { grant_type: 'client_credentials', resource: API }, ['keyed-inline', secret]),
      'client_secret_basic',
    );
    refused(
      await postForm(token, {
        grant_type: 'client_credentials',
        resource: API,
        client_id: 'keyed-inline',
        client_secret: secret,
      }),
      'client_secret_post',
    );
    refused(
      await postForm(token, { grant_type: 'client_credentials', resource: API, client_id: 'keyed-inline' }),
      'no authentication at all',
    );
    const declared = clientSchema.safeParse({
      clientId: 'keyed-with-secret',
      clientSecret: 'a-secret-of-sixteen-or-more',
      tokenEndpointAuthMethod: 'private_key_jwt',
      jwks: { keys: [inlineKey.publicJwk] },
      grantTypes: ['client_credentials'],
    });
    assert.equal(declared.success, false);
    assert.deepEqual(
      declared.error?.issues.map((issue) => issue.path.join('.')),
      ['clientSecret'],
      'the declarative file refuses a secret for a private_key_jwt client',
    );
  });

  it('the admin API registers a keyed client without a secret and refuses private key material in jwks', async () => {
    const api = adminApi(lock.issuer, await consoleToken(lock.issuer, 'admin', ADMIN_PASSWORD));
    const apiKey = await clientKey('ES256', 'api-1');
    const body = (keys: JWK[]) => ({
      clientId: 'api-keyed',
      tokenEndpointAuthMethod: 'private_key_jwt',
      grantTypes: ['client_credentials'],
      roles: ['app_readwrite'],
      resources: [API],
      jwks: { keys },
    });
    const leaked = await api('POST', '/clients', { body: body([apiKey.privateJwk]) });
    assert.equal(leaked.status, 422, leaked.text);
    assert.deepEqual(
      leaked.body.problems.map((problem: { path: string }) => problem.path),
      ['jwks.keys[0]'],
    );
    assert.match(leaked.body.detail, /private key material \(d\)/);
    assert.ok(!leaked.text.includes(apiKey.privateJwk.d!), 'the private key is not echoed');
    const symmetric = await api('POST', '/clients', {
      body: body([{ kty: 'oct', k: 'c2VjcmV0LXNlY3JldC1zZWNyZXQ' } as JWK]),
    });
    assert.equal(symmetric.status, 422, symmetric.text);
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' });
    const weakRsa = await api('POST', '/clients', { body: body([weak as JWK]) });
    assert.equal(weakRsa.status, 422, weakRsa.text);
    assert.match(weakRsa.body.detail, /RSA key of 1024 bits: at least 2048/);
    const bothKinds = await api('POST', '/clients', {
      body: { ...body([apiKey.publicJwk]), jwksUri: 'https://keys.example.com/jwks.json' },
    });
    assert.equal(bothKinds.status, 422, bothKinds.text);
    const plainHttp = await api('POST', '/clients', {
      body: { ...body([]), jwks: undefined, jwksUri: 'http://keys.example.com/jwks.json' },
    });
    assert.equal(plainHttp.status, 422, plainHttp.text);
    assert.ok(plainHttp.body.problems.some((problem: { path: string }) => problem.path === 'jwksUri'));

    const created = await api('POST', '/clients', { body: body([apiKey.publicJwk]) });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.body.clientSecret, undefined, 'no secret');
    assert.equal(created.body.hasSecret, false);
    assert.equal(created.body.tokenEndpointAuthMethod, 'private_key_jwt');
    const rotate = await api('POST', '/clients/api-keyed/secret');
    assert.equal(rotate.status, 409, rotate.text);

    // The catalog reloads: the new client gets tokens with its key.
    for (let attempt = 0; ; attempt++) {
      const response = await clientCredentials(await assertion('api-keyed', apiKey, { aud: token }));
      if (response.status === 200) break;
      assert.ok(attempt < 50, `the new client authenticates: ${JSON.stringify(response.body)}`);
      await sleep(100);
    }
  });

  it('key rotation at the jwksUri: a new key is accepted once Lock’s cached copy expires (60 s)', {
    timeout: 120_000,
  }, async () => {
    const first = await clientCredentials(await assertion('rotating', rotateOld, { aud: token }));
    assert.equal(first.status, 200, JSON.stringify(first.body));
    // The client publishes its next key beside the current one, and keeps signing with the current.
    keysAt.serve('/rotating/jwks.json', [rotateOld, rotateNew]);
    const stillOld = await clientCredentials(await assertion('rotating', rotateOld, { aud: token }));
    assert.equal(stillOld.status, 200, JSON.stringify(stillOld.body));
    refused(
      await clientCredentials(await assertion('rotating', rotateNew, { aud: token })),
      'the new key before Lock has fetched the set again',
    );
    await sleep(61_000);
    const rotated = await clientCredentials(await assertion('rotating', rotateNew, { aud: token }));
    assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
    // The old key is retired from the set; once Lock fetches the set again it no longer works.
    keysAt.serve('/rotating/jwks.json', [rotateNew]);
    const overlap = await clientCredentials(await assertion('rotating', rotateOld, { aud: token }));
    assert.equal(overlap.status, 200, 'within the cache time the old key still works (publish, then retire)');
  });
});
