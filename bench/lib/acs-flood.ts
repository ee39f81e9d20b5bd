/**
 * The SAML ACS under a flood: anyone can post documents to it. Starts a Lock of its own with a SAML
 * connector (IdP metadata inline, a certificate made here: no IdP runs in the bench), then posts
 * from many connections at once — half garbage that the cheap checks refuse, half responses to a
 * real outstanding request, signed, that go through the schema check (the bounded thread pool) and
 * the signature check — while a few connections measure GET /jwks, the rest of Lock. Answers Lock's
 * RSS and the /jwks latency before and during the flood, and what the flood was answered.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { inflateRawSync } from 'node:zlib';
import { SignedXml } from 'xml-crypto';
import { rssMiB, sampleRss } from './process-usage.ts';
import type { ServerProcess } from './server-process.ts';
import { startLock } from './servers.ts';
import { formatCount, formatFixed, renderTable } from './table.ts';
import { WEB_CLIENT_ID, WEB_REDIRECT_URI } from './workload.ts';

const CONNECTOR = 'flood-idp';
const IDP_ENTITY = 'https://idp.bench.example/metadata';
const IDP_SSO = 'https://idp.bench.example/sso';
/** Concurrent posts: "a few hundred concurrent small bodies" is what exhausted memory before. */
const FLOOD_CONNECTIONS = 200;
const PROBE_CONNECTIONS = 2;

export interface LatencyFigures {
  requests: number;
  p50Ms: number;
  p99Ms: number;
  non200: number;
}

export interface AcsFloodFigures {
  floodConnections: number;
  floodSeconds: number;
  /** Posts answered per second, and their status codes (400 refused, 503 validator busy). */
  floodPerSecond: number;
  floodStatusCodes: Record<string, number>;
  floodErrors: number;
  probeBefore: LatencyFigures;
  probeDuring: LatencyFigures;
  rssBeforeMiB: number | undefined;
  peakRssMiB: number | undefined;
  problems: string[];
}

export async function measureAcsFlood(options: {
  databaseUrl: string;
  clientSecret: string;
  durationS: number;
}): Promise<AcsFloodFigures> {
  const stateDir = await mkdtemp(join(tmpdir(), 'lock-bench-acs-'));
  let lock: ServerProcess | undefined;
  try {
    const idp = await makeKeyPair(stateDir);
    lock = await startLock({
      databaseUrl: options.databaseUrl,
      stateDir,
      clientSecret: options.clientSecret,
      extraConfig: connectorYaml(idp.certificate),
      // A flood from many addresses: the per-address limit (429) is not what is measured here.
      env: { LOCK_RATE_LIMIT_SAML: '1000000000' },
    });
    const acsPath = `/saml/${CONNECTOR}/acs`;
    const outstanding = await startSamlLogin(lock.url);
    const signed = signedResponse(idp, {
      inResponseTo: outstanding.requestId,
      acsUrl: `${lock.url}${acsPath}`,
      spEntityId: `${lock.url}${acsPath.replace(/acs$/, 'metadata')}`,
    });
    const bodies = [
      new URLSearchParams({ SAMLResponse: garbage() }).toString(),
      new URLSearchParams({ SAMLResponse: signed, RelayState: outstanding.relayState }).toString(),
    ];

    const probeBefore = await probe(lock.url, options.durationS);
    const rssBeforeMiB = rssMiB(lock.pid);
    const rss = sampleRss(() => lock!.processIds());
    const [flood, probeDuring] = await Promise.all([
      floodAcs(lock.url, acsPath, bodies, options.durationS),
      probe(lock.url, options.durationS),
    ]);
    const peakRssMiB = rss.stop();
    const problems: string[] = [];
    for (const [code, count] of Object.entries(flood.statusCodes))
      if (code !== '400' && code !== '503') problems.push(`ACS flood: ${count} answers with status ${code}`);
    if (flood.errors > 0) problems.push(`ACS flood: ${flood.errors} connection errors`);
    if (probeDuring.non200 > 0)
      problems.push(`GET /jwks during the ACS flood: ${probeDuring.non200} not 200`);
    if (lock.exited()) problems.push(`Lock exited during the ACS flood:\n${lock.output()}`);
    return {
      floodConnections: FLOOD_CONNECTIONS,
      floodSeconds: options.durationS,
      floodPerSecond: flood.answered / options.durationS,
      floodStatusCodes: flood.statusCodes,
      floodErrors: flood.errors,
      probeBefore,
      probeDuring,
      rssBeforeMiB,
      peakRssMiB,
      problems,
    };
  } finally {
    await lock?.stop();
    await rm(stateDir, { recursive: true, force: true });
  }
}

export function renderAcsFlood(figures: AcsFloodFigures): string {
  const codes = Object.entries(figures.floodStatusCodes)
    .map(([code, count]) => `${code}: ${formatCount(count)}`)
    .join(', ');
  return [
    `SAML ACS flood: ${figures.floodConnections} connections posting for ${figures.floodSeconds} s — ${formatFixed(figures.floodPerSecond, 0)} posts/s answered (${codes})`,
    renderTable(
      [{ title: 'Lock while its ACS is flooded', align: 'left' }, { title: 'before' }, { title: 'during' }],
      [
        [
          'GET /jwks p50 (ms)',
          formatFixed(figures.probeBefore.p50Ms, 1),
          formatFixed(figures.probeDuring.p50Ms, 1),
        ],
        [
          'GET /jwks p99 (ms)',
          formatFixed(figures.probeBefore.p99Ms, 1),
          formatFixed(figures.probeDuring.p99Ms, 1),
        ],
        [
          'GET /jwks answered',
          formatCount(figures.probeBefore.requests),
          formatCount(figures.probeDuring.requests),
        ],
        ['RSS (MiB; during: peak)', formatFixed(figures.rssBeforeMiB, 0), formatFixed(figures.peakRssMiB, 0)],
      ],
    ),
  ].join('\n');
}

function connectorYaml(certificate: string): string {
  const body = certificate.replace(/-----[^-]+-----|\s+/g, '');
  const metadata =
    `<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="${IDP_ENTITY}">` +
    '<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">' +
    `<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>${body}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>` +
    `<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="${IDP_SSO}"/>` +
    '</md:IDPSSODescriptor></md:EntityDescriptor>';
  const config = { idpMetadataXml: metadata, usernameAttribute: 'uid', groupsAttribute: 'groups' };
  return `connectors:
  - { id: local, type: local, name: Lock account }
  - id: ${CONNECTOR}
    type: saml
    name: Flood IdP
    config: ${JSON.stringify(config)}
`;
}

async function makeKeyPair(dir: string): Promise<{ privateKey: string; certificate: string }> {
  await promisify(execFile)('openssl', [
    ...['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=Bench IdP'],
    ...['-keyout', join(dir, 'idp.key'), '-out', join(dir, 'idp.crt')],
  ]);
  return {
    privateKey: await readFile(join(dir, 'idp.key'), 'utf8'),
    certificate: await readFile(join(dir, 'idp.crt'), 'utf8'),
  };
}

/**
 * An SP-initiated login up to the redirect to the IdP: the AuthnRequest's ID and the RelayState,
 * which the flood's signed responses name (so that they pass the cheap checks). It stays
 * outstanding: every response to it is refused.
 */
async function startSamlLogin(base: string): Promise<{ requestId: string; relayState: string }> {
  const cookies = new Map<string, string>();
  const query = new URLSearchParams({
    client_id: WEB_CLIENT_ID,
    response_type: 'code',
    redirect_uri: WEB_REDIRECT_URI,
    scope: 'openid',
    state: randomBytes(8).toString('hex'),
    code_challenge: randomBytes(32).toString('base64url'),
    code_challenge_method: 'S256',
    connector: CONNECTOR,
  });
  let url = `${base}/auth?${query}`;
  for (let hop = 0; hop < 8; hop++) {
    const response = await fetch(url, {
      redirect: 'manual',
      headers: { cookie: [...cookies].map(([name, value]) => `${name}=${value}`).join('; ') },
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const index = pair!.indexOf('=');
      cookies.set(pair!.slice(0, index), pair!.slice(index + 1));
    }
    await response.arrayBuffer();
    const location = response.headers.get('location');
    if (!location) throw new Error(`the SAML login did not reach the IdP: ${response.status} at ${url}`);
    url = new URL(location, url).toString();
    if (url.startsWith(IDP_SSO)) {
      const params = new URL(url).searchParams;
      const xml = inflateRawSync(Buffer.from(params.get('SAMLRequest')!, 'base64')).toString('utf8');
      return { requestId: /ID="([^"]+)"/.exec(xml)![1]!, relayState: params.get('RelayState')! };
    }
  }
  throw new Error('the SAML login did not reach the IdP within 8 redirects');
}

/** Small, looks signed, names no request: refused by the cheap checks. */
const garbage = () =>
  Buffer.from(
    '<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:ds="http://www.w3.org/2000/09/xmldsig#"' +
      ' ID="_garbage" Version="2.0" IssueInstant="2026-01-01T00:00:00Z" InResponseTo="_unknown"><ds:Signature/>' +
      '<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status></samlp:Response>',
  ).toString('base64');

/**
 * A response to the outstanding request, signed with the IdP's key, for the wrong audience: it goes
 * through everything expensive (schema, canonicalisation, RSA) and is refused after.
 */
function signedResponse(
  key: { privateKey: string; certificate: string },
  to: { inResponseTo: string; acsUrl: string; spEntityId: string },
): string {
  const now = new Date();
  const at = (offsetMs: number) => new Date(now.getTime() + offsetMs).toISOString().replace(/\.\d+Z$/, 'Z');
  const assertionId = `_a${randomBytes(16).toString('hex')}`;
  const xml =
    '<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"' +
    ` ID="_r${randomBytes(16).toString('hex')}" Version="2.0" IssueInstant="${at(0)}" Destination="${to.acsUrl}" InResponseTo="${to.inResponseTo}">` +
    `<saml:Issuer>${IDP_ENTITY}</saml:Issuer>` +
    '<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>' +
    `<saml:Assertion ID="${assertionId}" Version="2.0" IssueInstant="${at(0)}"><saml:Issuer>${IDP_ENTITY}</saml:Issuer>` +
    '<saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent">bench-user</saml:NameID>' +
    `<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData NotOnOrAfter="${at(3_600_000)}" Recipient="${to.acsUrl}" InResponseTo="${to.inResponseTo}"/></saml:SubjectConfirmation></saml:Subject>` +
    `<saml:Conditions NotBefore="${at(-60_000)}" NotOnOrAfter="${at(3_600_000)}"><saml:AudienceRestriction><saml:Audience>https://not-this-sp.example/metadata</saml:Audience></saml:AudienceRestriction></saml:Conditions>` +
    `<saml:AuthnStatement AuthnInstant="${at(0)}"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:Password</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>` +
    '<saml:AttributeStatement><saml:Attribute Name="uid"><saml:AttributeValue>bench-user</saml:AttributeValue></saml:Attribute></saml:AttributeStatement>' +
    '</saml:Assertion></samlp:Response>';
  const signer = new SignedXml({
    privateKey: key.privateKey,
    publicCert: key.certificate,
    signatureAlgorithm: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
    canonicalizationAlgorithm: 'http://www.w3.org/2001/10/xml-exc-c14n#',
  });
  signer.addReference({
    xpath: `//*[@ID='${assertionId}']`,
    transforms: [
      'http://www.w3.org/2000/09/xmldsig#enveloped-signature',
      'http://www.w3.org/2001/10/xml-exc-c14n#',
    ],
    digestAlgorithm: 'http://www.w3.org/2001/04/xmlenc#sha256',
  });
  signer.computeSignature(xml, {
    prefix: 'ds',
    location: { reference: `//*[@ID='${assertionId}']/*[local-name()='Issuer']`, action: 'after' },
  });
  return Buffer.from(signer.getSignedXml()).toString('base64');
}

/** `FLOOD_CONNECTIONS` loops posting the bodies in turn for `seconds`. */
async function floodAcs(base: string, path: string, bodies: string[], seconds: number) {
  const agent = new Agent({ keepAlive: true, maxSockets: FLOOD_CONNECTIONS });
  const statusCodes: Record<string, number> = {};
  let answered = 0;
  let errors = 0;
  const until = performance.now() + seconds * 1000;
  const loop = async (offset: number) => {
    for (let index = offset; performance.now() < until; index++) {
      const status = await post(agent, `${base}${path}`, bodies[index % bodies.length]!);
      if (status === undefined) errors++;
      else {
        answered++;
        statusCodes[status] = (statusCodes[status] ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: FLOOD_CONNECTIONS }, (_, index) => loop(index)));
  agent.destroy();
  return { answered, errors, statusCodes };
}

function post(agent: Agent, url: string, body: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = request(
      url,
      {
        method: 'POST',
        agent,
        timeout: 30_000,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
    req.end(body);
  });
}

/** GET /jwks from `PROBE_CONNECTIONS` loops for `seconds`: the latency of the rest of Lock. */
async function probe(base: string, seconds: number): Promise<LatencyFigures> {
  const agent = new Agent({ keepAlive: true, maxSockets: PROBE_CONNECTIONS });
  const latencies: number[] = [];
  let non200 = 0;
  const until = performance.now() + seconds * 1000;
  const loop = async () => {
    while (performance.now() < until) {
      const started = performance.now();
      const status = await new Promise<number | undefined>((resolve) => {
        const req = request(`${base}/jwks`, { agent, timeout: 30_000 }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode));
        });
        req.on('timeout', () => req.destroy());
        req.on('error', () => resolve(undefined));
        req.end();
      });
      latencies.push(performance.now() - started);
      if (status !== 200) non200++;
    }
  };
  await Promise.all(Array.from({ length: PROBE_CONNECTIONS }, loop));
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const at = (share: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(share * latencies.length))] ?? 0;
  return { requests: latencies.length, p50Ms: at(0.5), p99Ms: at(0.99), non200 };
}
