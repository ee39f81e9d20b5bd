import { z } from 'zod';
import { evenWithOtherProblems } from '../../model/schema-checks.ts';
import { ASYMMETRIC_JWS_ALGORITHMS } from '../../verify/options.ts';
import { claimMappingSchema } from '../federation/claim-mapping.ts';

const seconds = (min: number, max: number) => z.number().int().min(min).max(max);

/**
 * `connectors[].config` of `type: oidc`: sign-in through an upstream OpenID Connect provider (Entra
 * ID, Google, Okta, another Lock). Every field and its default is documented in docs/oidc-connector.md.
 * `clientSecret` is sealed at rest and never returned (connector-secrets.ts).
 */
export const oidcConfigSchema = z
  .strictObject({
    /** The upstream's issuer: discovery at `<issuer>/.well-known/openid-configuration`; ID tokens' `iss` exactly. */
    issuer: z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' }),
    clientId: z.string().min(1).max(512),
    clientSecret: z.string().min(1).max(4096).optional(),
    /** How Lock authenticates at the upstream's token endpoint. */
    clientAuth: z.enum(['client_secret_basic', 'client_secret_post', 'none']).default('client_secret_basic'),
    scopes: z
      .array(z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/, 'a scope token'))
      .min(1)
      .max(50)
      .default(['openid', 'profile', 'email'])
      .refine((scopes) => scopes.includes('openid'), 'must include openid'),
    /** Where username, email, name and groups are read in the ID token's claims merged with userinfo. */
    // The person's id is the ID token's iss + sub: never a mapped claim.
    claims: claimMappingSchema.omit({ id: true }).default({
      username: 'preferred_username',
      email: 'email',
      name: 'name',
      groups: 'groups',
    }),
    /** Read the userinfo endpoint too (many upstreams put profile, email and groups only there). */
    userinfo: z.boolean().default(true),
    /**
     * The upstream's emails are verified even without `email_verified: true` (an upstream that only
     * has verified addresses but does not say so). Off: an unverified email is not carried.
     */
    trustEmail: z.boolean().default(false),
    /** A Lock refresh re-reads the person's claims and groups upstream at most this often, in seconds. */
    refreshInterval: seconds(0, 86_400).default(300),
    /** Pins the ID token signature algorithm; by default what the upstream advertises, asymmetric only (never none, never HS*). */
    idTokenSigningAlg: z.enum(ASYMMETRIC_JWS_ALGORITHMS).optional(),
    /** Leeway for the ID token's exp, iat and auth_time against Lock's clock. */
    clockToleranceSeconds: seconds(0, 300).default(30),
    /** Each call to the upstream (discovery, JWKS, token, userinfo): the login page says so beyond it. */
    timeoutSeconds: seconds(1, 60).default(5),
    /** Development only: an `http://` issuer. Whoever sits on that path can sign in as anyone. */
    allowInsecureIssuer: z.boolean().default(false),
  })
  .superRefine((raw, ctx) => {
    // Runs even when other fields failed (every problem at once), so it reads its fields defensively.
    const config = raw as Partial<Record<keyof typeof raw, unknown>>;
    const issuer =
      typeof config.issuer === 'string' && URL.canParse(config.issuer) ? new URL(config.issuer) : undefined;
    if (issuer && issuer.protocol !== 'https:' && config.allowInsecureIssuer !== true)
      ctx.addIssue({
        code: 'custom',
        path: ['issuer'],
        message:
          'must be an https:// URL: over plain http anyone on the path can answer as the upstream (allowInsecureIssuer: true only for development)',
      });
    const clientAuth = config.clientAuth ?? 'client_secret_basic';
    if (clientAuth !== 'none' && config.clientSecret === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['clientSecret'],
        message: `required with clientAuth ${String(clientAuth)} (or clientAuth: none for a public client)`,
      });
  }, evenWithOtherProblems);

export type OidcConfig = z.output<typeof oidcConfigSchema>;
