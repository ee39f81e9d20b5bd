import { createPrivateKey, X509Certificate } from 'node:crypto';
import { z } from 'zod';
import { evenWithOtherProblems, isObject } from '../../model/schema-checks.ts';

/** Well-known URIs, so that a config (and the docs) can say what the short names mean. */
export const NAMEID_FORMATS = {
  persistent: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
  transient: 'urn:oasis:names:tc:SAML:2.0:nameid-format:transient',
  emailAddress: 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
  unspecified: 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified',
} as const;

export const SIGNATURE_ALGORITHMS = {
  'rsa-sha256': 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
  'rsa-sha512': 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512',
} as const;

// Claims Lock sets itself: an attribute mapped onto one of these would override who the user is.
const RESERVED_CLAIMS = new Set([
  'sub',
  'iss',
  'aud',
  'exp',
  'iat',
  'nbf',
  'jti',
  'auth_time',
  'acr',
  'amr',
  'azp',
  'nonce',
  'sid',
  'at_hash',
  'c_hash',
  'client_id',
  'scope',
  'roles',
  'role',
  'groups',
  'idp',
  'preferred_username',
  'email',
  'name',
  'cnf',
  'saml_login_at',
]);

const pemCertificate = z.string().refine((value) => {
  try {
    new X509Certificate(value);
    return true;
  } catch {
    return false;
  }
}, 'must be a PEM X.509 certificate');

const pemPrivateKey = z.string().refine((value) => {
  try {
    createPrivateKey(value);
    return true;
  } catch {
    return false;
  }
}, 'must be an unencrypted PEM private key');

const attributeName = z.string().min(1).max(1024);
const seconds = (min: number, max: number) => z.number().int().min(min).max(max);

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** A URL of a client application: https (OIDC Core §4), plain http only on a loopback host. */
const clientUrl = z
  .url({ protocol: /^https?$/, message: 'must be an http(s) URL' })
  .refine((value) => {
    const url = new URL(value);
    return url.protocol === 'https:' || LOOPBACK_HOSTS.has(url.hostname);
  }, 'must be an https URL (http only on localhost)')
  .refine((value) => new URL(value).hash === '', 'must not have a fragment');

/**
 * IdP-initiated (unsolicited) logins, OIDC Core §4 style: the ACS accepts a response without
 * InResponseTo, holds the login for the browser that posted it, and sends that browser to the
 * client's login initiation endpoint; the client's own authorization request then takes the login.
 */
const idpInitiatedSchema = z.strictObject({
  enabled: z.boolean().default(false),
  /** The OIDC client (catalog client id) the user lands in; checked against the catalog at each login. */
  clientId: z.string().min(1).max(128).optional(),
  /** The client's login initiation endpoint (OIDC `initiate_login_uri`): gets `iss` and `target_link_uri`. */
  initiateLoginUri: clientUrl.optional(),
  /** The `target_link_uri` sent when the RelayState names no URL on the initiation endpoint's origin. */
  targetLinkUri: clientUrl.optional(),
  /** How long the held login waits for the client's authorization request. */
  loginTtlSeconds: seconds(10, 900).default(120),
});

/**
 * `connectors[].config` of `type: saml`: Lock as a SAML 2.0 service provider to one IdP. Every field
 * and its default is documented in docs/saml.md. Members ending in `PrivateKey` are sealed at rest.
 */
export const samlConfigSchema = z
  .strictObject({
    // Where the IdP's metadata comes from: exactly one of these three.
    idpMetadataUrl: z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' }).optional(),
    idpMetadataFile: z.string().min(1).optional(),
    idpMetadataXml: z.string().min(1).optional(),
    idpMetadataRefreshSeconds: seconds(1, 7 * 86_400).default(3_600),
    idpMetadataTimeoutSeconds: seconds(1, 60).default(5),
    /** When set, the metadata must describe this entity (a guard against a wrong or swapped URL). */
    idpEntityId: z.string().min(1).max(1024).optional(),
    /**
     * Development only: accept an `http://` idpMetadataUrl. Whoever sits on that path can swap in
     * their own signing certificate and sign in as anyone; every load warns in the log.
     */
    allowInsecureMetadataUrl: z.boolean().default(false),
    /** A signature that does not verify re-reads the metadata at most this often (coalesced, per connector). */
    idpMetadataMinRefetchSeconds: seconds(10, 86_400).default(300),
    /**
     * Responses the ACS checks for one outstanding request; later ones are refused unchecked (an
     * IdP posts one, a user's double submit two).
     */
    maxResponsesPerRequest: z.number().int().min(1).max(1000).default(5),

    spEntityId: z.string().min(1).max(1024).optional(),
    spCertificate: pemCertificate.optional(),
    spPrivateKey: pemPrivateKey.optional(),
    spEncryptionCertificate: pemCertificate.optional(),
    spEncryptionPrivateKey: pemPrivateKey.optional(),

    signAuthnRequests: z.boolean().default(false),
    signatureAlgorithm: z
      .enum(Object.keys(SIGNATURE_ALGORITHMS) as ['rsa-sha256', 'rsa-sha512'])
      .default('rsa-sha256'),
    wantAssertionsSigned: z.boolean().default(true),
    wantResponseSigned: z.boolean().default(false),
    wantAssertionsEncrypted: z.boolean().default(false),
    nameIdFormat: z.string().min(1).max(1024).default(NAMEID_FORMATS.persistent),
    requestedAuthnContext: z
      .strictObject({
        comparison: z.enum(['exact', 'minimum', 'maximum', 'better']).default('exact'),
        classRefs: z.array(z.string().min(1).max(1024)).min(1),
      })
      .optional(),
    forceAuthn: z.boolean().default(false),
    clockSkewSeconds: seconds(0, 600).default(60),
    /** Refresh tokens of a SAML login work this long after it; then the user signs in again. 0: never. */
    maxSessionAgeSeconds: seconds(0, 90 * 86_400).default(8 * 3_600),

    /** The attribute that identifies the user for good; without it, the NameID (never a transient one). */
    userIdAttribute: attributeName.optional(),
    usernameAttribute: attributeName.optional(),
    emailAttribute: attributeName.optional(),
    nameAttribute: attributeName.optional(),
    groupsAttribute: attributeName.optional(),
    /** Splits each groups value, for IdPs that send all groups in one value ("a;b;c"). */
    groupsDelimiter: z.string().min(1).max(8).optional(),
    /** Extra claims: claim name → attribute name. */
    claims: z
      .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_.:-]{0,63}$/, 'must be a claim name'), attributeName)
      .default({}),

    idpInitiated: idpInitiatedSchema.default({ enabled: false, loginTtlSeconds: 120 }),
  })
  .superRefine((raw, ctx) => {
    const config = raw as Partial<Record<keyof typeof raw, unknown>>;
    const sources = ['idpMetadataUrl', 'idpMetadataFile', 'idpMetadataXml'] as const;
    const given = sources.filter((source) => config[source] !== undefined);
    if (given.length !== 1)
      ctx.addIssue({
        code: 'custom',
        path: [given[1] ?? 'idpMetadataUrl'],
        message: 'give exactly one of idpMetadataUrl, idpMetadataFile, idpMetadataXml',
      });
    for (const claim of Object.keys(isObject(config.claims) ? config.claims : {}))
      if (RESERVED_CLAIMS.has(claim))
        ctx.addIssue({ code: 'custom', path: ['claims', claim], message: 'is a claim Lock sets itself' });
    if (config.wantAssertionsSigned === false && config.wantResponseSigned !== true)
      ctx.addIssue({
        code: 'custom',
        path: ['wantAssertionsSigned'],
        message: 'an unsigned login cannot be trusted: set wantAssertionsSigned or wantResponseSigned',
      });
    const idpInitiated = isObject(config.idpInitiated) ? config.idpInitiated : {};
    if (idpInitiated.enabled === true)
      for (const field of ['clientId', 'initiateLoginUri'] as const)
        if (idpInitiated[field] === undefined)
          ctx.addIssue({
            code: 'custom',
            path: ['idpInitiated', field],
            message: 'is required when idpInitiated.enabled is true',
          });
    const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
    requirePair(ctx, text(config.spCertificate), text(config.spPrivateKey), 'spCertificate', 'spPrivateKey');
    requirePair(
      ctx,
      text(config.spEncryptionCertificate),
      text(config.spEncryptionPrivateKey),
      'spEncryptionCertificate',
      'spEncryptionPrivateKey',
    );
    if (config.signAuthnRequests === true && config.spPrivateKey === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['spPrivateKey'],
        message: 'signAuthnRequests needs spCertificate and spPrivateKey',
      });
    if (
      config.wantAssertionsEncrypted === true &&
      config.spEncryptionPrivateKey === undefined &&
      config.spPrivateKey === undefined
    )
      ctx.addIssue({
        code: 'custom',
        path: ['spEncryptionPrivateKey'],
        message:
          'wantAssertionsEncrypted needs spEncryptionCertificate and spEncryptionPrivateKey (or spCertificate and spPrivateKey)',
      });
  }, evenWithOtherProblems)
  .superRefine(requireHttpsMetadataUrl, evenWithOtherProblems);

export type SamlConfig = z.output<typeof samlConfigSchema>;

/**
 * The metadata names the certificates every login is checked against: fetched over plain http, it
 * is whatever a machine on the path says. https, or the explicit development flag.
 */
/** Runs even when other fields failed (every problem at once), so it reads its fields defensively. */
function requireHttpsMetadataUrl(
  config: { idpMetadataUrl?: unknown; allowInsecureMetadataUrl?: unknown },
  ctx: z.RefinementCtx,
): void {
  const url = config.idpMetadataUrl;
  if (typeof url !== 'string' || !URL.canParse(url) || config.allowInsecureMetadataUrl === true) return;
  if (new URL(url).protocol !== 'https:')
    ctx.addIssue({
      code: 'custom',
      path: ['idpMetadataUrl'],
      message:
        'must be an https:// URL: over plain http anyone on the path can swap the IdP signing certificate and sign in as anyone (use https, idpMetadataFile or idpMetadataXml; allowInsecureMetadataUrl: true only for development)',
    });
}

function requirePair(
  ctx: z.RefinementCtx,
  certificate: string | undefined,
  privateKey: string | undefined,
  certificateField: string,
  keyField: string,
) {
  if ((certificate === undefined) !== (privateKey === undefined)) {
    ctx.addIssue({
      code: 'custom',
      path: [certificate === undefined ? certificateField : keyField],
      message: `${certificateField} and ${keyField} go together`,
    });
    return;
  }
  if (certificate === undefined || privateKey === undefined) return;
  try {
    if (!new X509Certificate(certificate).checkPrivateKey(createPrivateKey(privateKey)))
      ctx.addIssue({
        code: 'custom',
        path: [keyField],
        message: `is not the private key of ${certificateField}`,
      });
  } catch {
    // Unparseable PEM: the field's own check already says so.
  }
}

/** The claim names a stored SAML config maps attributes to (oidc-provider emits only claims it knows). */
export function samlClaimNames(config: Record<string, unknown>): string[] {
  const claims = config.claims;
  return claims !== null && typeof claims === 'object' && !Array.isArray(claims) ? Object.keys(claims) : [];
}
