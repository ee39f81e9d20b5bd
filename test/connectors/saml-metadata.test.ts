import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type RunningLock, startLock } from '../helpers/lock.ts';
import { CALLBACK } from '../helpers/login-fixtures.ts';
import { UserAgent } from '../helpers/user-agent.ts';
import { PLAIN_IDP_OPTIONS, plainConnectorConfig, samlLockConfig } from './saml-fixtures.ts';
import { decodeResponse, encodeResponse } from './saml-forgery.ts';
import {
  makeKeyPair,
  pageText,
  postToAcs,
  registerServiceProvider,
  samlLogin,
  signInAtIdp,
  simpleSamlPhp,
  webAppAuthorization,
} from './saml-helpers.ts';

/** Serves the IdP's metadata the way the test says: the real document, an edited one, or an error. */
class MetadataServer {
  mode: 'real' | 'down' | { edit: (xml: string) => string } = 'real';
  fetches = 0;
  readonly #server: Server;
  constructor() {
    this.#server = createServer(async (_request, response) => {
      this.fetches++;
      if (this.mode === 'down') {
        response.statusCode = 503;
        response.end('down for maintenance');
        return;
      }
      const xml = await (await fetch(simpleSamlPhp().metadataUrl)).text();
      response.setHeader('content-type', 'application/samlmetadata+xml');
      response.end(this.mode === 'real' ? xml : this.mode.edit(xml));
    });
  }
  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/idp-metadata.xml`;
  }
  stop() {
    this.#server.close();
  }
}

const certificateBody = (pem: string) => pem.replace(/-----[^-]+-----|\s+/g, '');

describe('SAML connector: IdP metadata from a URL', () => {
  const server = new MetadataServer();
  let url: string;
  const cleanups: Array<() => Promise<unknown>> = [];

  before(async () => {
    url = await server.start();
  });
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    server.stop();
  });

  /** A Lock whose connector reads the metadata from the test's server, registered at the IdP. */
  async function lockWith(config: Record<string, unknown>, reuse?: RunningLock, now?: () => Date) {
    const lock = await startLock({
      config: samlLockConfig([{ id: 'partner', name: 'Partner SSO', config: plainConnectorConfig(config) }]),
      ...(reuse && { database: reuse.database, keysDir: reuse.keysDir }),
      ...(now && { now }),
    });
    const registration = await registerServiceProvider(lock, 'partner', PLAIN_IDP_OPTIONS);
    cleanups.push(() => registration.unregister());
    return lock;
  }

  async function loginLandsAtClient(lock: RunningLock) {
    const client = await webAppAuthorization(lock, { connector: 'partner' });
    const login = await samlLogin(lock, client.url, 'alice', 'alicepass');
    assert.ok(
      login.landed?.startsWith(`${CALLBACK}?code=`),
      `landed on ${login.landed}: ${pageText(login.html)}`,
    );
  }

  it('keeps signing users in with the last good copy while the metadata URL is down, also after a restart', async () => {
    server.mode = 'real';
    const first = await lockWith({
      idpMetadataUrl: url,
      idpMetadataRefreshSeconds: 1,
      idpMetadataTimeoutSeconds: 2,
    });
    await loginLandsAtClient(first);

    server.mode = 'down';
    const fetchesBefore = server.fetches;
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    await loginLandsAtClient(first);
    assert.ok(server.fetches > fetchesBefore, 'it did try the URL again');

    await first.close();
    const restarted = await lockWith(
      { idpMetadataUrl: url, idpMetadataRefreshSeconds: 1, idpMetadataTimeoutSeconds: 2 },
      first,
    );
    cleanups.push(
      () => restarted.close(),
      () => restarted.database.drop(),
    );
    await loginLandsAtClient(restarted);
  });

  it('picks up a new IdP signing certificate without a restart (key rollover)', async () => {
    const old = await makeKeyPair('The IdP, last year');
    const real = await (await fetch(simpleSamlPhp().metadataUrl)).text();
    const realCertificate = /<ds:X509Certificate>([^<]+)</.exec(real)![1]!;
    server.mode = { edit: (xml) => xml.replaceAll(realCertificate, certificateBody(old.certificate)) };
    const lock = await lockWith({ idpMetadataUrl: url, idpMetadataRefreshSeconds: 3600 });
    cleanups.push(
      () => lock.close(),
      () => lock.database.drop(),
    );
    // Lock reads the metadata (with last year's certificate) as the login starts; the IdP then
    // publishes its new one and signs with the new key.
    const browser = new UserAgent(lock.issuer);
    const toIdp = await browser.follow((await webAppAuthorization(lock, { connector: 'partner' })).url);
    assert.equal(server.fetches > 0, true);
    server.mode = 'real';
    const answer = await signInAtIdp(
      new UserAgent(simpleSamlPhp().origin),
      toIdp.left!,
      'alice',
      'alicepass',
    );
    const acs = await postToAcs(answer);
    assert.equal(acs.status, 303, pageText(await acs.text()));
    const done = await browser.follow(new URL(acs.headers.get('location')!, lock.issuer).toString());
    assert.ok(done.left?.startsWith(`${CALLBACK}?code=`), `landed on ${done.left}`);
  });

  it('badly signed posts re-read the metadata at most once per idpMetadataMinRefetchSeconds, coalesced', async () => {
    server.mode = 'real';
    let clockOffset = 0;
    const lock = await lockWith(
      { idpMetadataUrl: url, idpMetadataRefreshSeconds: 3600 },
      undefined,
      () => new Date(Date.now() + clockOffset),
    );
    cleanups.push(
      () => lock.close(),
      () => lock.database.drop(),
    );
    // A real request and RelayState with the IdP's answer, changed after signing: its signature fails.
    // (At most five responses per request are checked: each round uses requests of its own.)
    const tamperedPoster = async () => {
      const browser = new UserAgent(lock.issuer);
      const toIdp = await browser.follow((await webAppAuthorization(lock, { connector: 'partner' })).url);
      const answer = await signInAtIdp(new UserAgent(simpleSamlPhp().origin), toIdp.left!, 'bob', 'bobpass');
      const tampered = encodeResponse(decodeResponse(answer.SAMLResponse).replace(/bob/g, 'alice'));
      return async () => {
        const response = await postToAcs(answer, tampered);
        await response.arrayBuffer();
        return response.status;
      };
    };

    const first = await Promise.all(Array.from({ length: 4 }, tamperedPoster));
    const before = server.fetches;
    const statuses = await Promise.all(
      first.flatMap((postTampered) => Array.from({ length: 5 }, postTampered)),
    );
    assert.deepEqual(new Set(statuses), new Set([400]));
    assert.equal(server.fetches - before, 1, '20 concurrent bad signatures: one re-read');

    const second = await tamperedPoster();
    clockOffset = 120_000; // past the 30 s an earlier version waited, within the default 300 s
    for (let index = 0; index < 5; index++) assert.equal(await second(), 400);
    assert.equal(server.fetches - before, 1, 'no second re-read within idpMetadataMinRefetchSeconds');

    const third = await tamperedPoster();
    clockOffset = 301_000;
    assert.equal(await third(), 400);
    assert.equal(server.fetches - before, 2, 'after the interval a bad signature may re-read it again');
  });

  it('answers 503 and audits why when the metadata URL is down and no copy was ever saved', async () => {
    server.mode = 'down';
    const lock = await startLock({
      config: samlLockConfig([
        { id: 'partner', name: 'Partner SSO', config: plainConnectorConfig({ idpMetadataUrl: url }) },
      ]),
    });
    cleanups.push(
      () => lock.close(),
      () => lock.database.drop(),
    );
    const client = await webAppAuthorization(lock, { connector: 'partner' });
    const page = await new UserAgent(lock.issuer).follow(client.url);
    assert.equal(page.response.status, 503);
    assert.match(pageText(await page.response.text()), /Sign-in with Partner SSO is unavailable/);
    const { rows } = await lock.database.pool.query(
      "SELECT outcome, reason FROM audit_events WHERE type = 'login.saml'",
    );
    assert.equal(rows[0].outcome, 'error');
    assert.match(rows[0].reason, /IdP metadata from .* unavailable and no earlier copy saved: HTTP 503/);
  });

  it('refuses to send unsigned AuthnRequests to an IdP whose metadata wants them signed', async () => {
    server.mode = {
      edit: (xml) =>
        xml.replace('<md:IDPSSODescriptor ', '<md:IDPSSODescriptor WantAuthnRequestsSigned="true" '),
    };
    const lock = await startLock({
      config: samlLockConfig([
        { id: 'partner', name: 'Partner SSO', config: plainConnectorConfig({ idpMetadataUrl: url }) },
      ]),
    });
    cleanups.push(
      () => lock.close(),
      () => lock.database.drop(),
    );
    const client = await webAppAuthorization(lock, { connector: 'partner' });
    const page = await new UserAgent(lock.issuer).follow(client.url);
    assert.equal(page.response.status, 503);
    const { rows } = await lock.database.pool.query(
      "SELECT reason FROM audit_events WHERE type = 'login.saml'",
    );
    assert.match(rows[0].reason, /WantAuthnRequestsSigned.*set signAuthnRequests/);
  });
});
