import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { type RunningLock, startLock } from '../helpers/lock.ts';
import { CALLBACK } from '../helpers/login-fixtures.ts';
import { UserAgent } from '../helpers/user-agent.ts';
import { PLAIN_IDP_OPTIONS, plainConnectorConfig, samlLockConfig } from './saml-fixtures.ts';
import { decodeResponse, encodeResponse } from './saml-forgery.ts';
import {
  type IdpAnswer,
  pageText,
  postToAcs,
  registerServiceProvider,
  signInAtIdp,
  simpleSamlPhp,
  webAppAuthorization,
} from './saml-helpers.ts';

// The ACS takes a document from anyone. Lock runs in this test's process, so the threads it starts
// are this process's: a flood must not start one per post (xmllint-wasm's own validateXML did).
const threads = () => Number(/^Threads:\s+(\d+)/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]);

/** Runs `work` while sampling the thread count; resolves with its result and the highest count seen. */
async function sampleThreads<T>(work: () => Promise<T>): Promise<{ result: T; peak: number }> {
  let peak = threads();
  const timer = setInterval(() => {
    peak = Math.max(peak, threads());
  }, 2);
  try {
    return { result: await work(), peak };
  } finally {
    clearInterval(timer);
  }
}

/** A small Response that looks signed and names a request: the shape garbage takes to get far. */
const signedLooking = (inResponseTo: string) =>
  encodeResponse(
    '<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:ds="http://www.w3.org/2000/09/xmldsig#"' +
      ` ID="_garbage" Version="2.0" IssueInstant="2026-01-01T00:00:00Z" InResponseTo="${inResponseTo}">` +
      '<ds:Signature/><samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/>' +
      '</samlp:Status></samlp:Response>',
  );

describe('SAML ACS under a flood of posts', () => {
  let lock: RunningLock;
  let clockOffset = 0;
  let registration: { unregister(): Promise<void> };
  let acsUrl: string;

  before(async () => {
    lock = await startLock({
      now: () => new Date(Date.now() + clockOffset),
      env: {
        // Each scenario posts from an address of its own (X-Forwarded-For).
        LOCK_TRUST_PROXY: 'true',
        LOCK_SAML_VALIDATION_THREADS: '1',
        LOCK_SAML_VALIDATION_QUEUE: '2',
        LOCK_RATE_LIMIT_SAML: '250',
      },
      config: samlLockConfig([{ id: 'partner', name: 'Partner SSO', config: plainConnectorConfig() }]),
    });
    registration = await registerServiceProvider(lock, 'partner', PLAIN_IDP_OPTIONS);
    acsUrl = `${lock.issuer}/saml/partner/acs`;
    // One whole login first: every lazily started thread of a normal sign-in exists before counting.
    const warm = await answerFromIdp();
    assert.equal((await postToAcs(warm.answer)).status, 303);
  });
  after(async () => {
    await registration?.unregister();
    await lock?.close();
    await lock?.database.drop();
  });

  async function answerFromIdp() {
    const browser = new UserAgent(lock.issuer);
    const client = await webAppAuthorization(lock, { connector: 'partner' });
    const toIdp = await browser.follow(client.url);
    const answer = await signInAtIdp(new UserAgent(simpleSamlPhp().origin), toIdp.left!, 'bob', 'bobpass');
    return { answer, browser };
  }

  const post = (from: string, samlResponse: string, relayState?: string) =>
    fetch(acsUrl, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': from },
      body: new URLSearchParams({
        SAMLResponse: samlResponse,
        ...(relayState && { RelayState: relayState }),
      }),
    });

  const auditRowsFrom = async (ip: string) =>
    (
      await lock.database.pool.query<{ reason: string; details: Record<string, unknown> }>(
        "SELECT reason, details FROM audit_events WHERE type = 'login.saml' AND ip = $1 ORDER BY id",
        [ip],
      )
    ).rows;

  it('200 garbage posts at once: all 400 by the cheap checks, no validator thread, one audit row and then one with the count', async () => {
    const from = '198.51.100.7';
    // Lock's clock at the start of a minute: the burst stays inside one audit window.
    const toNextMinute = 60_000 - ((Date.now() + clockOffset) % 60_000) + 500;
    clockOffset += toNextMinute;
    const before = threads();
    const { result: statuses, peak } = await sampleThreads(() =>
      Promise.all(
        Array.from({ length: 200 }, (_, index) =>
          post(from, signedLooking(`_made_up_${index}`)).then(async (response) => {
            await response.arrayBuffer();
            return response.status;
          }),
        ),
      ),
    );
    assert.deepEqual(new Set(statuses), new Set([400]));
    assert.ok(peak - before <= 2, `threads went from ${before} to ${peak} while garbage was refused`);
    const rows = await auditRowsFrom(from);
    assert.equal(rows.length, 1, 'the first refusal of the minute, in full');
    assert.match(rows[0]!.reason, /InResponseTo _made_up_\d+ is not a request this connector sent/);

    // A minute later the next refusal writes the count of the previous minute first.
    clockOffset += 61_000;
    try {
      assert.equal((await post(from, signedLooking('_one_more'))).status, 400);
    } finally {
      clockOffset -= 61_000;
    }
    const after = await auditRowsFrom(from);
    assert.equal(after.length, 3);
    assert.match(after[1]!.reason, /^199 more SAML responses refused \(unknown-request\) from this address/);
    assert.equal(after[1]!.details.refusedCount, 199);
    clockOffset -= toNextMinute;
  });

  /** A real request and RelayState with SimpleSAMLphp's answer, changed after signing: its signature fails. */
  async function tamperedAnswer() {
    const { answer } = await answerFromIdp();
    const tampered = encodeResponse(decodeResponse(answer.SAMLResponse).replace(/bob/g, 'alice'));
    return { tampered, relayState: answer.RelayState! };
  }

  it('posts that pass the cheap checks wait for a fixed pool: beyond its queue 503 with Retry-After; the real answer still signs in', async () => {
    const from = '198.51.100.8';
    // Five posts for each of eight real requests: all of them pass the cheap checks.
    const requests = await Promise.all(Array.from({ length: 8 }, tamperedAnswer));
    const before = threads();
    const { result: answers, peak } = await sampleThreads(() =>
      Promise.all(
        requests.flatMap(({ tampered, relayState }) =>
          Array.from({ length: 5 }, () =>
            post(from, tampered, relayState).then(async (response) => ({
              status: response.status,
              retryAfter: response.headers.get('retry-after'),
              text: pageText(await response.text()),
            })),
          ),
        ),
      ),
    );
    const busy = answers.filter((answer) => answer.status === 503);
    const refused = answers.filter((answer) => answer.status === 400);
    assert.equal(busy.length + refused.length, 40, JSON.stringify(answers.map((answer) => answer.status)));
    assert.ok(busy.length > 0, 'the queue of 2 overflowed');
    assert.ok(refused.length >= 1, 'the ones that got a thread were checked and refused');
    for (const answer of busy) {
      assert.ok(Number(answer.retryAfter) > 0);
      assert.match(answer.text, /Sign-in with Partner SSO is busy/);
    }
    assert.ok(peak - before <= 2, `threads went from ${before} to ${peak} (pool of 1)`);

    const genuine = await answerFromIdp();
    const acs = await postToAcs(genuine.answer as IdpAnswer);
    assert.equal(acs.status, 303, pageText(await acs.text()));
    const done = await genuine.browser.follow(new URL(acs.headers.get('location')!, lock.issuer).toString());
    assert.ok(done.left?.startsWith(`${CALLBACK}?code=`), `landed on ${done.left}`);
  });

  it('one outstanding request buys at most five checked responses; the sixth is refused unchecked', async () => {
    const from = '198.51.100.11';
    const { tampered, relayState } = await tamperedAnswer();
    for (let index = 0; index < 5; index++)
      assert.equal((await post(from, tampered, relayState)).status, 400);
    assert.match((await auditRowsFrom(from)).at(-1)!.reason, /signature does not verify/);
    assert.equal((await post(from, tampered, relayState)).status, 400);
    assert.match(
      (await auditRowsFrom(from)).at(-1)!.reason,
      /has had 6 responses posted; more than 5 are refused unchecked/,
    );
  });

  it('rate-limits /saml/… per address (LOCK_RATE_LIMIT_SAML): 429 with Retry-After past the limit', async () => {
    const from = '198.51.100.9';
    // Lock's clock at the start of a minute: the burst stays inside one rate-limit window (a burst
    // across a boundary is counted in two, and gets more through).
    clockOffset += 60_000 - ((Date.now() + clockOffset) % 60_000) + 500;
    const statuses: number[] = [];
    for (let batch = 0; batch < 13; batch++)
      statuses.push(
        ...(await Promise.all(
          Array.from({ length: 20 }, () =>
            post(from, 'not base64 at all').then(async (response) => {
              await response.arrayBuffer();
              return response.status;
            }),
          ),
        )),
      );
    assert.equal(statuses.filter((status) => status === 400).length, 250);
    assert.equal(statuses.filter((status) => status === 429).length, 10);
    const other = await post('198.51.100.10', 'not base64 at all');
    assert.equal(other.status, 400, 'another address is not limited');
    const limited = await post(from, 'x');
    assert.ok(Number(limited.headers.get('retry-after')) > 0);
  });
});
