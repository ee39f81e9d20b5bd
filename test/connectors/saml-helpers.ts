// Helpers for the SAML tests: keys, registering a Lock connector's SP metadata with the
// SimpleSAMLphp peer, and signing in at that IdP with a cookie-keeping HTTP agent.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as oidc from 'openid-client';
import type { RunningLock } from '../helpers/lock.ts';
import { API, CALLBACK, WEB_SECRET } from '../helpers/login-fixtures.ts';
import { redeem, startAuthorization } from '../helpers/relying-party.ts';
import { UserAgent } from '../helpers/user-agent.ts';
import { requirePeerEnv } from '../peers/peer.ts';

const HINT = 'the SimpleSAMLphp peer (test/peers/simplesamlphp.ts) starts with `npm test`';

export function simpleSamlPhp() {
  return {
    origin: requirePeerEnv('LOCK_TEST_SSP_ORIGIN', HINT),
    metadataUrl: requirePeerEnv('LOCK_TEST_SSP_METADATA_URL', HINT),
    dir: requirePeerEnv('LOCK_TEST_SSP_DIR', HINT),
  };
}

/** The IdP's own signing key and certificate (PEM), as the peer generated them. */
export async function idpSigningKey(): Promise<{ privateKey: string; certificate: string }> {
  const { dir } = simpleSamlPhp();
  return {
    privateKey: await readFile(join(dir, 'cert', 'idp.pem'), 'utf8'),
    certificate: await readFile(join(dir, 'cert', 'idp.crt'), 'utf8'),
  };
}

/** A fresh RSA key and self-signed certificate (PEM). */
export async function makeKeyPair(commonName: string): Promise<{ privateKey: string; certificate: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'lock-test-key-'));
  try {
    await promisify(execFile)('openssl', [
      ...['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=${commonName}`],
      ...['-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')],
    ]);
    return {
      privateKey: await readFile(join(dir, 'key.pem'), 'utf8'),
      certificate: await readFile(join(dir, 'cert.pem'), 'utf8'),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Makes the IdP trust one of Lock's SAML connectors: its SP metadata, exactly as Lock publishes it
 * at /saml/<id>/metadata, plus IdP-side options (SimpleSAMLphp saml20-sp-remote keys).
 */
export async function registerServiceProvider(
  lock: RunningLock,
  connectorId: string,
  idpOptions: Record<string, unknown> = {},
): Promise<{ entityId: string; unregister(): Promise<void> }> {
  const response = await fetch(`${lock.issuer}/saml/${connectorId}/metadata`);
  if (!response.ok) throw new Error(`SP metadata of ${connectorId}: HTTP ${response.status}`);
  const xml = await response.text();
  const entityId = /entityID="([^"]+)"/.exec(xml)![1]!;
  const file = join(simpleSamlPhp().dir, 'sp-metadata', randomBytes(8).toString('hex'));
  await writeFile(`${file}.json`, JSON.stringify(idpOptions));
  await writeFile(`${file}.xml`, xml);
  return {
    entityId,
    unregister: async () => {
      await rm(`${file}.xml`, { force: true });
      await rm(`${file}.json`, { force: true });
    },
  };
}

/** A SAML connector in Lock's declarative YAML (config values as JSON, which YAML reads as is). */
export function samlConnectorYaml(id: string, name: string, config: Record<string, unknown>): string {
  return `  - id: ${id}
    type: saml
    name: ${name}
    config: ${JSON.stringify(config)}
`;
}

/** What the IdP's auto-submitting form would POST to Lock's ACS. */
export interface IdpAnswer {
  acsUrl: string;
  SAMLResponse: string;
  RelayState: string | undefined;
}

/**
 * The user at the IdP: follows the AuthnRequest redirect, signs in on SimpleSAMLphp's form and
 * returns the response it would POST to the ACS. SimpleSAMLphp's error pages answer 200: a page
 * without a SAMLResponse is an error, reported with its text.
 */
export async function signInAtIdp(
  idpAgent: UserAgent,
  authnRequestUrl: string,
  username: string,
  password: string,
): Promise<IdpAnswer> {
  const start = await idpAgent.follow(authnRequestUrl);
  let html = await start.response.text();
  if (!html.includes('name="SAMLResponse"')) {
    const authState = /name="AuthState" value="([^"]+)"/.exec(html)?.[1];
    if (!authState) throw new Error(`no login form at the IdP:\n${pageText(html)}`);
    const submitted = await idpAgent.follow(start.url!, {
      form: { username, password, AuthState: decodeEntities(authState) },
    });
    html = await submitted.response.text();
  }
  return readAutoPostForm(html);
}

export function readAutoPostForm(html: string): IdpAnswer {
  const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
  const samlResponse = /name="SAMLResponse" value="([^"]+)"/.exec(html)?.[1];
  if (!action || !samlResponse) throw new Error(`no SAMLResponse in the IdP's page:\n${pageText(html)}`);
  const relayState = /name="RelayState" value="([^"]*)"/.exec(html)?.[1];
  return {
    acsUrl: decodeEntities(action),
    SAMLResponse: decodeEntities(samlResponse),
    RelayState: relayState === undefined ? undefined : decodeEntities(relayState),
  };
}

/**
 * The IdP's page POSTs the response to Lock cross-site: a browser sends none of Lock's
 * SameSite=Lax cookies with it, so neither does this.
 */
export async function postToAcs(
  answer: IdpAnswer,
  samlResponse = answer.SAMLResponse,
  headers: Record<string, string> = {},
) {
  return fetch(answer.acsUrl, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams({
      SAMLResponse: samlResponse,
      ...(answer.RelayState !== undefined && { RelayState: answer.RelayState }),
    }),
  });
}

/** An OIDC client of Lock (the login fixtures' web-app) and its authorization request. */
export async function webAppAuthorization(lock: RunningLock, extra: Record<string, string> = {}) {
  const request = await startAuthorization(
    lock.issuer,
    { id: 'web-app', secret: WEB_SECRET },
    { redirect_uri: CALLBACK, scope: 'openid profile email groups read', resource: API, ...extra },
  );
  return {
    url: request.url.toString(),
    tokens: (callback: string) => redeem(request, new URL(callback)),
    refresh: (refreshToken: string) =>
      oidc.refreshTokenGrant(request.config, refreshToken, { resource: API }),
  };
}

/**
 * A whole SP-initiated login: the OIDC authorization request (with `connector=<id>`) to Lock, the
 * IdP's login form, the POST to the ACS; returns the IdP's answer and, unless it was refused, where
 * Lock sent the browser in the end (the client's callback).
 */
export async function samlLogin(
  lock: RunningLock,
  authorizationUrl: string,
  username: string,
  password: string,
) {
  const browser = { lock: new UserAgent(lock.issuer), idp: new UserAgent(simpleSamlPhp().origin) };
  const toIdp = await browser.lock.follow(authorizationUrl);
  if (!toIdp.left) throw new Error(`Lock did not send the browser to the IdP: ${toIdp.response.status}`);
  const answer = await signInAtIdp(browser.idp, toIdp.left, username, password);
  const acs = await postToAcs(answer);
  if (acs.status !== 303) return { browser, answer, acs, html: await acs.text() };
  const done = await browser.lock.follow(new URL(acs.headers.get('location')!, lock.issuer).toString());
  return { browser, answer, acs, landed: done.left, html: done.left ? '' : await done.response.text() };
}

export function pageText(html: string): string {
  return html
    .replace(/<script[\s\S]*?<\/script>|<style[\s\S]*?<\/style>/g, '')
    .replace(/<[^>]+>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 1500);
}

function decodeEntities(value: string): string {
  return value
    .replace(/&#x([0-9a-f]+);/gi, (_, hex) => String.fromCodePoint(Number.parseInt(hex, 16)))
    .replace(/&#(\d+);/g, (_, dec) => String.fromCodePoint(Number(dec)))
    .replaceAll('&quot;', '"')
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&amp;', '&');
}
