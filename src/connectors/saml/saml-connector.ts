import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { storedUpstreamIdentitySchema } from '../../model/upstream-identity.ts';
import type { Logger } from '../../observability/logger.ts';
import type { Queryable } from '../../store/pool.ts';
import { isKnownAssertionId, rememberAssertionId } from '../../store/saml-assertion-ids.ts';
import { holdLogin, takeHeldLogin } from '../../store/saml-idp-initiated-logins.ts';
import {
  answerRequest,
  countResponseTo,
  findOutstandingRequest,
  saveOutstandingRequest,
  takeAnsweredRequest,
} from '../../store/saml-requests.ts';
import {
  type CallbackOutcome,
  type ConnectionTestReport,
  type MetadataConnector,
  type RefreshConnector,
  type TestableConnector,
  type UnsolicitedLogin,
  type UnsolicitedLoginConnector,
  UpstreamError,
  type UpstreamIdentity,
  type UpstreamLogin,
  type UpstreamObserver,
  type UpstreamRefusal,
} from '../connector.ts';
import { mapAssertionToIdentity, SAML_LOGIN_AT_CLAIM } from './attribute-mapping.ts';
import { assertFreshEnough, authTimeOf } from './authn-freshness.ts';
import { type SamlConfig, samlConfigSchema } from './config.ts';
import type { IdpDescriptor } from './idp-metadata.ts';
import { IdpMetadataSource } from './idp-metadata-source.ts';
import { SamlRefusal } from './refusal.ts';
import { outlineResponse } from './response-outline.ts';
import { type StatusResponse, type ValidatedAssertion, validateSamlResponse } from './response-validation.ts';
import { createAuthnRequest, type SpSettings, spMetadataXml } from './service-provider.ts';
import { testIdpMetadata } from './test-connection.ts';
import { SchemaValidatorBusy } from './xml-schema.ts';

// How long the user may take at the IdP.
const REQUEST_TTL_MS = 15 * 60_000;

export interface SamlConnectorOptions {
  id: string;
  name: string;
  /** As stored: validated again here, secrets opened. */
  config: Record<string, unknown>;
  db: Queryable;
  log: Logger;
  /** Lock's issuer URL: the base of the SP's entity ID and endpoints, and `iss` of IdP-initiated logins. */
  issuer: string;
  now: () => Date;
  observeUpstream?: UpstreamObserver;
}

/** The IdP answered the request with an error status. */
export interface IdpStatusOutcome {
  kind: 'idp-status';
  statusCode: string;
  subStatusCode?: string;
  statusMessage?: string;
}

/** A valid login for an outstanding request, stored until its browser completes it. */
export interface AnsweredOutcome {
  kind: 'answered';
  requestId: string;
  interactionUid: string;
  username: string;
}

/**
 * A valid unsolicited (IdP-initiated) login of a connector that accepts them; its assertion ID is
 * already spent. Not held yet: the caller checks `clientId` against the catalog first.
 * `targetLinkUri`: the RelayState if it is a URL on the origin of the client's initiation endpoint,
 * else the configured default.
 */
type UnsolicitedOutcome = UnsolicitedLogin;
type CompletedLogin = UpstreamLogin;

const storedOutcome = z.object({
  identity: storedUpstreamIdentitySchema,
  authnContextClassRef: z.string().optional(),
  /** The assertion's AuthnInstant, epoch seconds. */
  authTime: z.number().int().optional(),
});

/**
 * Lock as a SAML 2.0 service provider to one IdP: SP-initiated login by HTTP-Redirect, the answer
 * by HTTP-POST to the ACS, validated by response-validation.ts and bound to the request and the
 * browser that started it; unsolicited responses only with `idpInitiated.enabled`, held for the
 * browser that posted them until its client's authorization request takes them. Refresh tokens of
 * its users work up to `maxSessionAgeSeconds` after the last SAML login.
 */
export class SamlConnector
  implements UnsolicitedLoginConnector, MetadataConnector, TestableConnector, RefreshConnector
{
  readonly type = 'saml';
  readonly id: string;
  readonly name: string;
  readonly config: SamlConfig;
  readonly sp: SpSettings;
  readonly #db: Queryable;
  readonly #log: Logger;
  readonly #now: () => Date;
  readonly #issuer: string;
  readonly #metadata: IdpMetadataSource;

  constructor(options: SamlConnectorOptions) {
    this.id = options.id;
    this.name = options.name;
    const parsed = samlConfigSchema.safeParse(options.config);
    if (!parsed.success)
      throw new Error(
        `SAML connector ${options.id}: invalid config: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`,
      );
    this.config = parsed.data;
    this.#db = options.db;
    this.#log = options.log;
    this.#now = options.now;
    this.#issuer = options.issuer;
    const base = `${options.issuer.replace(/\/$/, '')}/saml/${encodeURIComponent(options.id)}`;
    this.sp = {
      entityId: this.config.spEntityId ?? `${base}/metadata`,
      acsUrl: `${base}/acs`,
      config: this.config,
    };
    this.#metadata = new IdpMetadataSource({
      connectorId: options.id,
      config: this.config,
      db: options.db,
      log: options.log,
      now: options.now,
      observeUpstream: options.observeUpstream,
    });
  }

  /** The SP metadata, for the IdP's admin. */
  metadata(): { contentType: string; body: string } {
    return { contentType: 'application/samlmetadata+xml', body: spMetadataXml(this.sp) };
  }

  /** The connection test: reading the IdP's metadata is what can fail. */
  testConnection(): Promise<ConnectionTestReport> {
    return testIdpMetadata(this.id, this.config, { db: this.#db, log: this.#log, now: this.#now });
  }

  /** Sends the browser to the IdP; `browserBinding` goes into a cookie that completing the login needs. */
  async start(input: {
    interactionUid: string;
    forceAuthn: boolean;
    /** The client's max_age: the IdP's AuthnInstant must be at most this old when its answer arrives. */
    maxAgeSeconds?: number | undefined;
  }): Promise<{ redirectUrl: string; requestId: string; browserBinding: string }> {
    const idp = await this.#metadata.descriptor();
    if (idp.wantAuthnRequestsSigned && !this.config.signAuthnRequests)
      throw new UpstreamError(
        `SAML connector ${this.id}: the IdP wants signed AuthnRequests (WantAuthnRequestsSigned): set signAuthnRequests with spCertificate and spPrivateKey`,
      );
    const now = this.#now();
    const relayState = randomBytes(16).toString('base64url');
    const forceAuthn = this.config.forceAuthn || input.forceAuthn;
    const request = createAuthnRequest(this.sp, idp, { relayState, forceAuthn, now });
    const browserBinding = randomBytes(32).toString('base64url');
    await saveOutstandingRequest(
      this.#db,
      {
        id: request.id,
        connector: this.id,
        interactionUid: input.interactionUid,
        relayState,
        issuedAt: now,
        forceAuthn,
        ...(input.maxAgeSeconds !== undefined && { maxAgeSeconds: input.maxAgeSeconds }),
        browserBinding: hashBinding(browserBinding),
        expiresAt: new Date(now.getTime() + REQUEST_TTL_MS),
      },
      now,
    );
    return { redirectUrl: request.url, requestId: request.id, browserBinding };
  }

  /**
   * The ACS's form: the IdP's answer as a value (refusals with the reason for the admin; those of a
   * cheap check anyone can fail in bulk named by that check).
   */
  async receive(form: URLSearchParams): Promise<CallbackOutcome> {
    const samlResponse = form.get('SAMLResponse');
    if (!samlResponse) return { kind: 'malformed' };
    try {
      const outcome = await this.receiveResponse({
        samlResponse,
        relayState: form.get('RelayState') ?? undefined,
      });
      if (outcome.kind !== 'idp-status') return outcome;
      return { kind: 'upstream-refused', refusal: refusalOf(outcome), reason: describeStatus(outcome) };
    } catch (error) {
      if (error instanceof SamlRefusal)
        return {
          kind: 'rejected',
          reason: `SAML response refused: ${error.reason}`,
          ...(error.precheck !== undefined && { bulk: error.precheck }),
        };
      if (error instanceof SchemaValidatorBusy)
        return {
          kind: 'busy',
          reason: `SAML response not checked: ${error.message}`,
          bulk: 'validator-busy',
        };
      throw error;
    }
  }

  /**
   * The ACS: validates the IdP's response, answers its outstanding request (once) and stores the
   * login for the completion step; an unsolicited response only when `idpInitiated.enabled`.
   * Cheap checks come first (outlineResponse, then the request it names, by one indexed query):
   * anyone can post here, and the schema and signature checks are what costs.
   * Throws SamlRefusal (reason for the admin), SchemaValidatorBusy or UpstreamError.
   */
  async receiveResponse(form: {
    samlResponse: string;
    relayState: string | undefined;
  }): Promise<IdpStatusOutcome | AnsweredOutcome | UnsolicitedOutcome> {
    const outline = outlineResponse(form.samlResponse);
    if (outline.inResponseTo !== undefined)
      await this.#assertAnswerable(outline.inResponseTo, outline.assertionId, form.relayState);
    else if (!this.config.idpInitiated.enabled) throw unsolicitedRefusal();
    const result = await this.#validate(form.samlResponse);
    if (result.kind === 'status')
      return {
        kind: 'idp-status',
        statusCode: result.statusCode,
        ...(result.subStatusCode !== undefined && { subStatusCode: result.subStatusCode }),
        ...(result.statusMessage !== undefined && { statusMessage: result.statusMessage }),
      };
    if (result.inResponseTo === undefined) return this.#acceptUnsolicited(result, form.relayState);
    const now = this.#now();
    const request = await findOutstandingRequest(this.#db, result.inResponseTo);
    if (!request || request.connector !== this.id) {
      if (await isKnownAssertionId(this.#db, { issuer: result.issuer, id: result.assertionId }))
        throw new SamlRefusal(`the assertion ${result.assertionId} was already used (replay)`);
      throw new SamlRefusal(`InResponseTo ${result.inResponseTo} is not a request this connector sent`);
    }
    if (request.expiresAt.getTime() <= now.getTime())
      throw new SamlRefusal(`the request ${request.id} expired before the IdP answered`);
    if (!sameText(form.relayState, request.relayState))
      throw new SamlRefusal(`RelayState does not belong to the request ${request.id} the response answers`);
    assertFreshEnough(result, request, now, this.#skewMs());

    const identity = mapAssertionToIdentity(result, this.config, now);
    const fresh = await rememberAssertionId(
      this.#db,
      { issuer: result.issuer, id: result.assertionId, expiresAt: result.replayableUntil },
      now,
    );
    if (!fresh) throw new SamlRefusal(`the assertion ${result.assertionId} was already used (replay)`);
    const outcome: z.input<typeof storedOutcome> = {
      identity,
      ...(result.authnContextClassRef !== undefined && { authnContextClassRef: result.authnContextClassRef }),
      ...authTimeOf(result, now),
    };
    if (!(await answerRequest(this.#db, request.id, outcome, now)))
      throw new SamlRefusal(`the request ${request.id} was already answered`);
    return {
      kind: 'answered',
      requestId: request.id,
      interactionUid: request.interactionUid,
      username: identity.username,
    };
  }

  /** The login the ACS stored, once, for the browser holding the binding cookie; else undefined. */
  async complete(input: {
    requestId: string;
    interactionUid: string;
    browserBinding: string;
  }): Promise<CompletedLogin | undefined> {
    const outcome = await takeAnsweredRequest(
      this.#db,
      {
        id: input.requestId,
        connector: this.id,
        interactionUid: input.interactionUid,
        browserBinding: hashBinding(input.browserBinding),
      },
      this.#now(),
    );
    return outcome === undefined ? undefined : readStoredOutcome(outcome);
  }

  /**
   * Keeps an accepted IdP-initiated login for the browser that posted it (the caller puts
   * `browserBinding` into a cookie) and says where to send that browser: the client's login
   * initiation endpoint with `iss` and `target_link_uri` (OIDC Core §4).
   */
  async holdUnsolicited(
    outcome: UnsolicitedOutcome,
  ): Promise<{ browserBinding: string; redirectUrl: string; maxAgeMs: number }> {
    const settings = this.config.idpInitiated;
    const now = this.#now();
    const maxAgeMs = settings.loginTtlSeconds * 1000;
    const browserBinding = randomBytes(32).toString('base64url');
    const stored: z.input<typeof storedOutcome> = {
      identity: outcome.login.identity,
      ...(outcome.login.authnContextClassRef !== undefined && {
        authnContextClassRef: outcome.login.authnContextClassRef,
      }),
      ...(outcome.login.authTime !== undefined && { authTime: outcome.login.authTime }),
    };
    await holdLogin(
      this.#db,
      {
        browserBinding: hashBinding(browserBinding),
        connector: this.id,
        clientId: outcome.clientId,
        outcome: stored,
        expiresAt: new Date(now.getTime() + maxAgeMs),
      },
      now,
    );
    const redirect = new URL(settings.initiateLoginUri!);
    redirect.searchParams.set('iss', this.#issuer);
    if (outcome.targetLinkUri !== undefined)
      redirect.searchParams.set('target_link_uri', outcome.targetLinkUri);
    return { browserBinding, redirectUrl: redirect.toString(), maxAgeMs };
  }

  acceptsUnsolicitedFor(clientId: string): boolean {
    return this.config.idpInitiated.enabled && this.config.idpInitiated.clientId === clientId;
  }

  /**
   * The IdP-initiated login held for the browser with this cookie value, once, if it was for this
   * client and has not expired; else undefined.
   */
  async takeUnsolicited(input: {
    browserBinding: string;
    clientId: string;
  }): Promise<CompletedLogin | undefined> {
    const outcome = await takeHeldLogin(
      this.#db,
      { browserBinding: hashBinding(input.browserBinding), connector: this.id, clientId: input.clientId },
      this.#now(),
    );
    return outcome === undefined ? undefined : readStoredOutcome(outcome);
  }

  /** SAML cannot ask the IdP again: a login is good for `maxSessionAgeSeconds`, then sign in again. */
  async refresh(identity: UpstreamIdentity): Promise<UpstreamIdentity | undefined> {
    const loginAt = identity.claims?.[SAML_LOGIN_AT_CLAIM];
    if (typeof loginAt !== 'number') return undefined;
    const age = this.#now().getTime() / 1000 - loginAt;
    return age <= this.config.maxSessionAgeSeconds ? identity : undefined;
  }

  /**
   * An unsolicited response: every check of a solicited one has passed (signature, pinned
   * certificate, Issuer, Destination, Recipient, Audience, time limits, one assertion) and neither
   * the Response nor the assertion names a request. Refused unless the connector accepts
   * IdP-initiated logins; the replay cache is what keeps it from being accepted twice.
   */
  async #acceptUnsolicited(
    result: ValidatedAssertion,
    relayState: string | undefined,
  ): Promise<UnsolicitedOutcome> {
    const settings = this.config.idpInitiated;
    if (!settings.enabled) throw unsolicitedRefusal();
    const now = this.#now();
    if (result.authnInstant !== undefined && result.authnInstant.getTime() > now.getTime() + this.#skewMs())
      throw new SamlRefusal(`the AuthnInstant ${result.authnInstant.toISOString()} is in the future`);
    const identity = mapAssertionToIdentity(result, this.config, now);
    const fresh = await rememberAssertionId(
      this.#db,
      { issuer: result.issuer, id: result.assertionId, expiresAt: result.replayableUntil },
      now,
    );
    if (!fresh) throw new SamlRefusal(`the assertion ${result.assertionId} was already used (replay)`);
    const targetLinkUri =
      targetFromRelayState(relayState, settings.initiateLoginUri!) ?? settings.targetLinkUri;
    return {
      kind: 'unsolicited',
      clientId: settings.clientId!,
      login: {
        identity,
        ...(result.authnContextClassRef !== undefined && {
          authnContextClassRef: result.authnContextClassRef,
        }),
        ...authTimeOf(result, now),
      },
      ...(targetLinkUri !== undefined && { targetLinkUri }),
    };
  }

  /**
   * Before any expensive check: the response names a request this connector sent, still open,
   * with the RelayState it was sent with. Read from the unverified document; `receiveResponse`
   * checks it all again from the signed assertion.
   */
  async #assertAnswerable(
    inResponseTo: string,
    assertionId: string | undefined,
    relayState: string | undefined,
  ): Promise<void> {
    const request = await countResponseTo(this.#db, inResponseTo);
    if (!request || request.connector !== this.id) {
      // Only to name a replay as such: without usable metadata it stays "not a request".
      const issuer = await this.#metadata.descriptor().then(
        (idp) => idp.entityId,
        () => undefined,
      );
      if (
        issuer !== undefined &&
        assertionId !== undefined &&
        (await isKnownAssertionId(this.#db, { issuer, id: assertionId }))
      )
        throw new SamlRefusal(`the assertion ${assertionId} was already used (replay)`, {
          precheck: 'replay',
        });
      throw new SamlRefusal(`InResponseTo ${inResponseTo} is not a request this connector sent`, {
        precheck: 'unknown-request',
      });
    }
    if (request.expiresAt.getTime() <= this.#now().getTime())
      throw new SamlRefusal(`the request ${request.id} expired before the IdP answered`, {
        precheck: 'expired-request',
      });
    if (!sameText(relayState, request.relayState))
      throw new SamlRefusal(`RelayState does not belong to the request ${request.id} the response answers`, {
        precheck: 'relay-state',
      });
    if (request.answered)
      throw new SamlRefusal(`the request ${request.id} was already answered`, { precheck: 'replay' });
    // One outstanding request must not have any number of documents schema- and signature-checked.
    const limit = this.config.maxResponsesPerRequest;
    if (request.responses > limit)
      throw new SamlRefusal(
        `the request ${request.id} has had ${request.responses} responses posted; more than ${limit} are refused unchecked (maxResponsesPerRequest)`,
        { precheck: 'too-many-responses' },
      );
  }

  #skewMs(): number {
    return this.config.clockSkewSeconds * 1000;
  }

  async #validate(samlResponse: string): Promise<StatusResponse | ValidatedAssertion> {
    const idp = await this.#metadata.descriptor();
    try {
      return await this.#validateWith(samlResponse, idp);
    } catch (error) {
      if (!(error instanceof SamlRefusal) || !error.signatureFailure) throw error;
      // Perhaps the IdP rolled its signing key over: its current metadata says.
      const refreshed = await this.#metadata.refreshSigningCertificates();
      if (!refreshed) throw error;
      this.#log.info(
        { connector: this.id },
        'IdP signing certificates changed: validating with the new ones',
      );
      return this.#validateWith(samlResponse, refreshed);
    }
  }

  #validateWith(samlResponse: string, idp: IdpDescriptor) {
    const decryptionKey = this.config.spEncryptionPrivateKey ?? this.config.spPrivateKey;
    return validateSamlResponse(samlResponse, {
      idp,
      spEntityId: this.sp.entityId,
      acsUrl: this.sp.acsUrl,
      ...(decryptionKey !== undefined && { decryptionKey }),
      wantAssertionsSigned: this.config.wantAssertionsSigned,
      wantResponseSigned: this.config.wantResponseSigned,
      wantAssertionsEncrypted: this.config.wantAssertionsEncrypted,
      clockSkewSeconds: this.config.clockSkewSeconds,
      now: this.#now(),
    });
  }
}

const STATUS_PREFIX = 'urn:oasis:names:tc:SAML:2.0:status:';
const shortStatus = (code: string | undefined) => code?.replace(STATUS_PREFIX, '');

function describeStatus(outcome: IdpStatusOutcome): string {
  const codes = [outcome.statusCode, outcome.subStatusCode].map(shortStatus).filter(Boolean).join('/');
  return `the IdP answered with the status ${codes}${outcome.statusMessage ? `: ${outcome.statusMessage}` : ''}`;
}

/** What the user can do about an IdP's error status. */
function refusalOf(outcome: IdpStatusOutcome): UpstreamRefusal {
  const codes = new Set([shortStatus(outcome.statusCode), shortStatus(outcome.subStatusCode)]);
  if (codes.has('AuthnFailed')) return 'authn-failed';
  if (codes.has('RequestDenied')) return 'denied';
  if (codes.has('NoPassive') || codes.has('NoAuthnContext')) return 'unsupported-context';
  return 'failed';
}

const hashBinding = (value: string) => createHash('sha256').update(value).digest();

/** Constant-time equality of two strings (RelayState); an absent one equals nothing. */
function sameText(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

const unsolicitedRefusal = () =>
  new SamlRefusal(
    'unsolicited (IdP-initiated) response, without InResponseTo: this connector accepts none (idpInitiated.enabled is false)',
    { precheck: 'unsolicited' },
  );

// RFC 8176 values for the SAML authentication contexts whose meaning is clear.
function amrFor(classRef: string | undefined): string[] {
  if (!classRef) return [];
  if (/:ac:classes:(Password|PasswordProtectedTransport)$/.test(classRef)) return ['pwd'];
  if (classRef === 'https://refeds.org/profile/mfa') return ['mfa'];
  if (/:ac:classes:(Smartcard|SmartcardPKI)$/.test(classRef)) return ['sc'];
  return [];
}

function readStoredOutcome(outcome: unknown): CompletedLogin {
  const { identity, authnContextClassRef, authTime } = storedOutcome.parse(outcome);
  const amr = amrFor(authnContextClassRef);
  return {
    identity,
    ...(authnContextClassRef !== undefined && { authnContextClassRef }),
    ...(amr.length > 0 && { amr }),
    ...(authTime !== undefined && { authTime }),
  };
}

/**
 * IdPs carry the page the user wants at the SP in the RelayState of an IdP-initiated login. It is
 * not signed: it becomes `target_link_uri` only as an absolute URL on the origin of the client's
 * initiation endpoint (the client must still check it, OIDC Core §4); anything else is ignored.
 */
function targetFromRelayState(relayState: string | undefined, initiateLoginUri: string): string | undefined {
  if (relayState === undefined || relayState === '' || !URL.canParse(relayState)) return undefined;
  const url = new URL(relayState);
  return url.origin === new URL(initiateLoginUri).origin && url.hash === '' ? url.toString() : undefined;
}
