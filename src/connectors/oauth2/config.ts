import { z } from 'zod';
import { claimMappingSchema } from '../federation/claim-mapping.ts';

/**
 * The defaults of an `oauth2` connector's config. Connector settings have no environment variable;
 * like the LDAP and SAML types' they live with the type's schema (docs/oidc-connector.md lists them).
 */
export const OAUTH2_DEFAULTS = {
  /** GitHub's shape: the numeric account id, the login, and the organisations' logins. */
  claims: { id: 'id', username: 'login', email: 'email', name: 'name' },
  /** Five minutes: a revoked or changed upstream account reaches Lock's tokens within one access token's life. */
  refreshInterval: 300,
  /** The login page says "unavailable" within seconds, never hangs on an upstream that does not answer. */
  timeoutSeconds: 5,
  /** GitHub and GitLab take the secret in the form; RFC 6749 §2.3.1 prefers Basic, which most also take. */
  clientAuth: 'client_secret_post',
} as const;

// A loopback upstream is on this machine: plain http reaches nobody else (tests, a local GitLab).
const isLoopback = (host: string) =>
  host === 'localhost' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);

/** An upstream endpoint: https, plain http only on a loopback host (codes, secrets and tokens cross it). */
const endpointUrl = z
  .url({ protocol: /^https?$/, message: 'must be an http(s) URL' })
  .refine((value) => {
    const url = new URL(value);
    return url.protocol === 'https:' || isLoopback(url.hostname);
  }, 'must be an https URL (http only on a loopback host)')
  .refine((value) => new URL(value).hash === '', 'must not have a fragment');

// A dot path into the upstream's JSON (`login`, `profile.email`), or through a list (`[].login`).
const claimPath = claimMappingSchema.shape.id.unwrap();

export const oauth2ConfigSchema = z.strictObject({
  /** The upstream's authorization endpoint, where the browser is sent. */
  authorizationUrl: endpointUrl,
  /** Its token endpoint, which Lock calls with the code (and the client secret). */
  tokenUrl: endpointUrl,
  /** The JSON document about the signed-in user whose members `claims` maps (GitHub: /user). */
  userinfoUrl: endpointUrl,
  /** A JSON array about the user (GitHub: /user/orgs) whose items `claims.groups` maps to group names. */
  groupsUrl: endpointUrl.optional(),
  clientId: z.string().min(1).max(512),
  /** Sealed at rest and write-only, like every connector secret. */
  clientSecret: z.string().min(1).max(4096),
  /** How Lock authenticates at the token endpoint. */
  clientAuth: z.enum(['client_secret_post', 'client_secret_basic']).default(OAUTH2_DEFAULTS.clientAuth),
  scopes: z.array(z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/, 'must be a scope token')).default([]),
  claims: z
    .strictObject({
      /** The upstream's stable account id: Lock's `sub` is minted per (connector, id). Never the name. */
      id: claimPath.default(OAUTH2_DEFAULTS.claims.id),
      username: claimPath.default(OAUTH2_DEFAULTS.claims.username),
      email: claimPath.default(OAUTH2_DEFAULTS.claims.email),
      name: claimPath.default(OAUTH2_DEFAULTS.claims.name),
      /** Read from the groups document when `groupsUrl` is set, else from the userinfo document. */
      groups: claimPath.optional(),
    })
    .default({ ...OAUTH2_DEFAULTS.claims }),
  /**
   * Plain OAuth 2.0 has no `email_verified`: the upstream's email reaches Lock's tokens (as
   * verified) only when the admin says this upstream verifies addresses. Never used to link accounts.
   */
  trustEmail: z.boolean().default(false),
  /** Seconds between re-reads of the user upstream on Lock refreshes (0: at every refresh). */
  refreshInterval: z.number().int().min(0).max(86_400).default(OAUTH2_DEFAULTS.refreshInterval),
  /** Each call to the upstream gives up after this long. */
  timeoutSeconds: z.number().int().min(1).max(60).default(OAUTH2_DEFAULTS.timeoutSeconds),
});

export type OAuth2Config = z.output<typeof oauth2ConfigSchema>;
