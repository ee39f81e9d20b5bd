import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type RunningLock, startLock } from '../helpers/lock.ts';
import { CALLBACK } from '../helpers/login-fixtures.ts';
import { UserAgent } from '../helpers/user-agent.ts';
import { PLAIN_IDP_OPTIONS, plainConnectorConfig, samlLockConfig } from './saml-fixtures.ts';
import {
  child,
  decodeResponse,
  encodeResponse,
  find,
  parseXml,
  removeSignature,
  serializeXml,
  setAttributeValues,
  signElement,
} from './saml-forgery.ts';
import {
  type IdpAnswer,
  idpSigningKey,
  makeKeyPair,
  pageText,
  postToAcs,
  registerServiceProvider,
  signInAtIdp,
  simpleSamlPhp,
  webAppAuthorization,
} from './saml-helpers.ts';

// Every forgery starts from a real signed Response of SimpleSAMLphp for bob (Response and assertion
// signed), sent to a connector that requires signed assertions. The attacker, bob, wants to be
// alice and an admin. The last test posts the untouched Response: it is accepted, so each refusal
// before it was the forgery's doing.
describe('SAML connector refuses forged, replayed and misdirected responses', () => {
  let lock: RunningLock;
  let clockOffset = 0;
  let registration: { entityId: string; unregister(): Promise<void> };
  let real: { answer: IdpAnswer; browser: UserAgent };
  let attacker: { privateKey: string; certificate: string };
  let idpKey: { privateKey: string; certificate: string };

  before(async () => {
    lock = await startLock({
      now: () => new Date(Date.now() + clockOffset),
      // Each forgery comes from an address of its own (X-Forwarded-For): the ACS audits the first
      // refusal of a kind per address and minute in full, and only counts the rest.
      env: { LOCK_TRUST_PROXY: 'true' },
      // Every forgery answers the one real request: let them all be checked in full.
      config: samlLockConfig([
        {
          id: 'partner',
          name: 'Partner SSO',
          config: plainConnectorConfig({ maxResponsesPerRequest: 1000 }),
        },
      ]),
    });
    registration = await registerServiceProvider(lock, 'partner', PLAIN_IDP_OPTIONS);
    [attacker, idpKey] = await Promise.all([makeKeyPair('Not the IdP'), idpSigningKey()]);
    real = await answerFromIdp('bob', 'bobpass');
  });
  after(async () => {
    await registration?.unregister();
    await lock?.close();
    await lock?.database.drop();
  });

  /** Starts a login in a fresh browser and returns the IdP's answer, not yet posted. */
  async function answerFromIdp(username: string, password: string) {
    const browser = new UserAgent(lock.issuer);
    const client = await webAppAuthorization(lock, { connector: 'partner' });
    const toIdp = await browser.follow(client.url);
    const answer = await signInAtIdp(new UserAgent(simpleSamlPhp().origin), toIdp.left!, username, password);
    return { answer, browser };
  }

  /** The real Response as a DOM, for one forgery. */
  function realResponse() {
    const document = parseXml(decodeResponse(real.answer.SAMLResponse));
    const response = document.documentElement;
    return { document, response, assertion: child(response, 'Assertion') };
  }

  async function lastAuditReason(): Promise<string> {
    const { rows } = await lock.database.pool.query<{ reason: string }>(
      "SELECT reason FROM audit_events WHERE type = 'login.saml' ORDER BY id DESC LIMIT 1",
    );
    return rows[0]?.reason ?? '';
  }

  /** Posts a forged Response as the IdP's page would, and checks that Lock refused it and why. */
  let forger = 0;
  async function assertRefused(xml: string, reason: RegExp, answer: IdpAnswer = real.answer) {
    const response = await postToAcs(answer, encodeResponse(xml), {
      'x-forwarded-for': `192.0.2.${++forger}`,
    });
    const text = pageText(await response.text());
    assert.equal(response.status, 400, text);
    assert.equal(response.headers.get('location'), null, 'no way on to the interaction');
    assert.match(text, /Sign-in with Partner SSO failed/);
    assert.doesNotMatch(text, /signature|assertion|InResponseTo/i, 'no internals for the user');
    assert.match(await lastAuditReason(), reason);
  }

  /** bob's Response made alice's: uid and groups changed. */
  function escalate(root: Document | Element) {
    setAttributeValues(root, 'uid', 'alice');
    setAttributeValues(root, 'groups', 'admins');
  }

  /** A copy of the signed element without its signature: the original a wrapping hides somewhere. */
  function unsignedCopy(element: Element): Element {
    const copy = element.cloneNode(true) as Element;
    removeSignature(copy);
    return copy;
  }

  /** Turns the element into the attacker's: a new ID, and bob made alice, an admin. */
  function makeEvil(element: Element, id = '_evil_assertion'): Element {
    element.setAttribute('ID', id);
    escalate(element);
    return element;
  }

  it('refuses a tampered attribute', async () => {
    const { document, response } = realResponse();
    removeSignature(response);
    escalate(document);
    await assertRefused(serializeXml(document), /Assertion signature does not verify/);
  });

  it('refuses a stripped signature', async () => {
    const { document, response, assertion } = realResponse();
    removeSignature(response);
    removeSignature(assertion);
    escalate(document);
    await assertRefused(serializeXml(document), /the Response carries no signature/);
  });

  it('refuses a signature by another key (its certificate in KeyInfo)', async () => {
    const { document, response, assertion } = realResponse();
    removeSignature(response);
    removeSignature(assertion);
    escalate(document);
    const forged = signElement(serializeXml(document), assertion.getAttribute('ID')!, attacker);
    assert.match(forged, /X509Certificate/);
    await assertRefused(forged, /Assertion signature does not verify with the IdP's certificate/);
  });

  // The eight signature-wrapping shapes of SAML Raider: the signed original stays intact somewhere
  // (so its signature verifies) while an evil copy sits where a careless reader looks.

  it('refuses XSW1: evil Response as root, the signed original inside its Signature', async () => {
    const { document, response } = realResponse();
    const original = unsignedCopy(response);
    const signature = removeSignature(response);
    makeEvil(response, '_evil_response');
    signature.appendChild(original);
    response.insertBefore(signature, child(response, 'Issuer').nextSibling);
    await assertRefused(serializeXml(document), /protocol schema: .*Response': This element is not expected/);
  });

  it('refuses XSW2: evil Response as root, the signed original beside its Signature', async () => {
    const { document, response } = realResponse();
    const original = unsignedCopy(response);
    const signature = removeSignature(response);
    makeEvil(response, '_evil_response');
    const issuer = child(response, 'Issuer');
    response.insertBefore(signature, issuer.nextSibling);
    response.insertBefore(original, signature);
    await assertRefused(serializeXml(document), /protocol schema: .*Response': This element is not expected/);
  });

  it('refuses XSW3: evil assertion before the signed one', async () => {
    const { document, response, assertion } = realResponse();
    removeSignature(response);
    const evil = makeEvil(unsignedCopy(assertion));
    response.insertBefore(evil, assertion);
    await assertRefused(serializeXml(document), /2 assertions .* expected exactly one/);
  });

  it('refuses XSW4: evil assertion wrapping the signed one', async () => {
    const { document, response, assertion } = realResponse();
    removeSignature(response);
    const evil = makeEvil(unsignedCopy(assertion));
    response.replaceChild(evil, assertion);
    evil.appendChild(assertion);
    await assertRefused(
      serializeXml(document),
      /protocol schema: .*Assertion': This element is not expected/,
    );
  });

  it('refuses XSW5: evil assertion carrying the signature, the signed original after it', async () => {
    const { document, response, assertion } = realResponse();
    removeSignature(response);
    const original = unsignedCopy(assertion);
    makeEvil(assertion);
    response.appendChild(original);
    await assertRefused(serializeXml(document), /2 assertions .* expected exactly one/);
  });

  it('refuses XSW6: evil assertion carrying the signature, the signed original inside that signature', async () => {
    const { document, response, assertion } = realResponse();
    removeSignature(response);
    const original = unsignedCopy(assertion);
    makeEvil(assertion);
    find(assertion, 'Signature').appendChild(original);
    await assertRefused(
      serializeXml(document),
      /protocol schema: .*Assertion': This element is not expected/,
    );
  });

  it('refuses XSW7: evil assertion, the signed original in samlp:Extensions', async () => {
    const { document, response, assertion } = realResponse();
    removeSignature(response);
    const evil = makeEvil(unsignedCopy(assertion));
    const extensions = document.createElementNS('urn:oasis:names:tc:SAML:2.0:protocol', 'samlp:Extensions');
    response.replaceChild(evil, assertion);
    extensions.appendChild(assertion);
    response.insertBefore(extensions, child(response, 'Issuer').nextSibling);
    await assertRefused(serializeXml(document), /2 assertions .* expected exactly one/);
  });

  it('refuses XSW8: evil assertion carrying the signature, the signed original in a ds:Object', async () => {
    const { document, response, assertion } = realResponse();
    removeSignature(response);
    const original = unsignedCopy(assertion);
    makeEvil(assertion);
    const object = document.createElementNS('http://www.w3.org/2000/09/xmldsig#', 'ds:Object');
    object.appendChild(original);
    find(assertion, 'Signature').appendChild(object);
    await assertRefused(serializeXml(document), /2 assertions .* expected exactly one/);
  });

  it('refuses a comment injected into the NameID (the signatures stay valid)', async () => {
    const { document } = realResponse();
    const nameId = find(document, 'NameID');
    const value = nameId.textContent!;
    nameId.textContent = value.slice(0, 6);
    nameId.appendChild(document.createComment(''));
    nameId.appendChild(document.createTextNode(value.slice(6)));
    await assertRefused(serializeXml(document), /XML comment/);
  });

  it('refuses a response for a request that another browser started (RelayState of another request)', async () => {
    const other = await answerFromIdp('bob', 'bobpass');
    await assertRefused(decodeResponse(real.answer.SAMLResponse), /RelayState does not belong/, {
      ...real.answer,
      RelayState: other.answer.RelayState,
    });
  });

  it('refuses an InResponseTo that names no request Lock sent (re-signed with the IdP key)', async () => {
    const forged = resigned((document) => {
      document.documentElement.setAttribute('InResponseTo', '_not_ours');
      find(document, 'SubjectConfirmationData').setAttribute('InResponseTo', '_not_ours');
    });
    await assertRefused(forged, /InResponseTo _not_ours is not a request this connector sent/);
  });

  it('refuses a wrong Audience (re-signed with the IdP key)', async () => {
    const forged = resigned((document) => {
      find(document, 'Audience').textContent = 'https://another-sp.example.com/metadata';
    });
    await assertRefused(forged, /audience https:\/\/another-sp\.example\.com\/metadata, not this SP/);
  });

  it('refuses a wrong Destination (re-signed with the IdP key)', async () => {
    const forged = resigned((document) => {
      document.documentElement.setAttribute('Destination', 'https://another-sp.example.com/acs');
    });
    await assertRefused(forged, /Destination is https:\/\/another-sp\.example\.com\/acs/);
  });

  it('refuses a wrong Recipient (re-signed with the IdP key)', async () => {
    const forged = resigned((document) => {
      find(document, 'SubjectConfirmationData').setAttribute(
        'Recipient',
        'https://another-sp.example.com/acs',
      );
    });
    await assertRefused(forged, /Recipient is https:\/\/another-sp\.example\.com\/acs/);
  });

  it('refuses an expired assertion (Lock’s clock 10 minutes on)', async () => {
    clockOffset = 10 * 60_000;
    try {
      await assertRefused(decodeResponse(real.answer.SAMLResponse), /the assertion expired/);
    } finally {
      clockOffset = 0;
    }
  });

  it('refuses an assertion that is not valid yet (Lock’s clock 10 minutes back)', async () => {
    clockOffset = -10 * 60_000;
    try {
      await assertRefused(decodeResponse(real.answer.SAMLResponse), /not valid yet/);
    } finally {
      clockOffset = 0;
    }
  });

  it('refuses two assertions', async () => {
    const { document, response, assertion } = realResponse();
    const second = assertion.cloneNode(true) as Element;
    second.setAttribute('ID', '_second_assertion');
    response.appendChild(second);
    await assertRefused(serializeXml(document), /2 assertions .* expected exactly one/);
  });

  it('refuses two root elements', async () => {
    const xml = decodeResponse(real.answer.SAMLResponse);
    await assertRefused(xml + xml, /not well-formed XML|root elements/);
  });

  it('refuses a DOCTYPE with an entity', async () => {
    const xml = decodeResponse(real.answer.SAMLResponse).replace(
      '<saml:Issuer>',
      '<saml:Issuer xml:lang="&who;">',
    );
    await assertRefused(`<!DOCTYPE samlp:Response [<!ENTITY who "en">]>${xml}`, /DTD/);
  });

  it('refuses an unsolicited (IdP-initiated) response', async () => {
    const idp = new UserAgent(simpleSamlPhp().origin);
    const start = `${simpleSamlPhp().origin}/simplesaml/saml2/idp/SSOService.php?spentityid=${encodeURIComponent(registration.entityId)}`;
    const answer = await signInAtIdp(idp, start, 'bob', 'bobpass');
    assert.doesNotMatch(decodeResponse(answer.SAMLResponse), /InResponseTo/);
    await assertRefused(decodeResponse(answer.SAMLResponse), /unsolicited/, answer);
  });

  it('refuses a replay: the same response twice in a row', async () => {
    const { answer, browser } = await answerFromIdp('bob', 'bobpass');
    const first = await postToAcs(answer);
    assert.equal(first.status, 303);
    const done = await browser.follow(new URL(first.headers.get('location')!, lock.issuer).toString());
    assert.ok(done.left?.startsWith(`${CALLBACK}?code=`));
    await assertRefused(decodeResponse(answer.SAMLResponse), /already used \(replay\)/, answer);
  });

  it('refuses a replay: the same response twice at once (exactly one is accepted)', async () => {
    const { answer } = await answerFromIdp('bob', 'bobpass');
    const responses = await Promise.all([postToAcs(answer), postToAcs(answer)]);
    assert.deepEqual(responses.map((response) => response.status).sort(), [303, 400]);
    assert.match(await lastAuditReason(), /already used \(replay\)|already answered/);
  });

  it('refuses a replay: one response posted 40 times at once and each completion followed — exactly one sign-in', async () => {
    const { answer, browser } = await answerFromIdp('bob', 'bobpass');
    const successes = async () =>
      Number(
        (
          await lock.database.pool.query(
            "SELECT count(*) FROM audit_events WHERE type = 'login.saml' AND outcome = 'success'",
          )
        ).rows[0].count,
      );
    const before = await successes();
    const posts = await Promise.all(
      Array.from({ length: 40 }, (_, index) =>
        postToAcs(answer, answer.SAMLResponse, { 'x-forwarded-for': `203.0.113.${index + 1}` }),
      ),
    );
    const accepted = posts.filter((response) => response.status === 303);
    assert.equal(accepted.length, 1, JSON.stringify(posts.map((response) => response.status)));
    assert.equal(posts.filter((response) => response.status === 400).length, 39);
    // The browser follows the one completion link, twice at once as well: one code, one sign-in.
    const completion = new URL(accepted[0]!.headers.get('location')!, lock.issuer).toString();
    const landed = await Promise.all([browser.follow(completion), browser.follow(completion)]);
    const codes = landed.filter((done) => done.left?.startsWith(`${CALLBACK}?code=`));
    assert.equal(codes.length, 1, landed.map((done) => done.left ?? done.response.status).join(', '));
    assert.equal((await successes()) - before, 1);
  });

  it('accepts the untouched response all the forgeries above were made of', async () => {
    const acs = await postToAcs(real.answer);
    assert.equal(acs.status, 303, pageText(await acs.text()));
    const done = await real.browser.follow(new URL(acs.headers.get('location')!, lock.issuer).toString());
    assert.ok(done.left?.startsWith(`${CALLBACK}?code=`), `landed on ${done.left}`);
  });

  /** The real Response, changed by `edit`, then signed again with the IdP's own key. */
  function resigned(edit: (document: Document) => void): string {
    const { document, response, assertion } = realResponse();
    removeSignature(response);
    removeSignature(assertion);
    edit(document);
    const signedAssertion = signElement(serializeXml(document), assertion.getAttribute('ID')!, idpKey);
    return signElement(signedAssertion, response.getAttribute('ID')!, idpKey);
  }
});
