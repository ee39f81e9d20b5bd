import { createPublicKey } from 'node:crypto';
import { z } from 'zod';

/**
 * How a client proves who it is at the token, introspection and revocation endpoints. Not
 * `client_secret_jwt`: it signs with a secret both sides must hold in the clear, so it gains
 * nothing over `client_secret_basic` (docs/client-authentication.md).
 */
export const CLIENT_AUTH_METHODS = [
  'client_secret_basic',
  'client_secret_post',
  'private_key_jwt',
  'none',
] as const;
export type ClientAuthMethod = (typeof CLIENT_AUTH_METHODS)[number];

/** What a client's `private_key_jwt` assertions may be signed with: asymmetric only. */
export const CLIENT_ASSERTION_ALGS = ['RS256', 'PS256', 'ES256', 'EdDSA'] as const;

/** JWK members that hold private or symmetric key material (RFC 7518 §6, RFC 8037 §2). */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

/** RSA keys shorter than this are refused (NIST SP 800-131A). */
const MIN_RSA_BITS = 2048;

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** One public key of a client: RSA, EC or OKP, never private or symmetric members. */
const publicJwkSchema = z
  .looseObject({
    kty: z.enum(['RSA', 'EC', 'OKP'], { message: 'must be RSA, EC or OKP (public keys; no oct)' }),
    kid: z.string().min(1).max(200).optional(),
    alg: z.enum(CLIENT_ASSERTION_ALGS).optional(),
    use: z.literal('sig').optional(),
  })
  .superRefine((jwk, ctx) => {
    const present = PRIVATE_MEMBERS.filter((member) => member in jwk);
    if (present.length > 0) {
      ctx.addIssue({
        code: 'custom',
        message: `holds private key material (${present.join(', ')}): register the public key only`,
      });
      return;
    }
    let bits: number | undefined;
    try {
      bits = createPublicKey({ key: jwk as never, format: 'jwk' }).asymmetricKeyDetails?.modulusLength;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'is not a valid public key' });
      return;
    }
    if (jwk.kty === 'RSA' && (bits ?? 0) < MIN_RSA_BITS)
      ctx.addIssue({ code: 'custom', message: `is an RSA key of ${bits} bits: at least ${MIN_RSA_BITS}` });
  });

/** A client's inline JWK set (RFC 7517 §5): the public keys its assertions are signed with. */
export const clientJwksSchema = z.strictObject({
  keys: z.array(publicJwkSchema).min(1, 'at least one key').max(10, 'at most 10 keys'),
});

/**
 * Where a client publishes its JWK set: https, or http on a loopback host (development, as a
 * native app's redirect URI). oidc-provider fetches and caches it.
 */
export const jwksUriSchema = z
  .url({ message: 'must be an absolute URL' })
  .refine((value) => {
    if (!URL.canParse(value)) return true;
    const url = new URL(value);
    return url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname));
  }, 'must be an https URL (http only on localhost, 127.0.0.1 or [::1])')
  .refine((value) => !value.includes('#'), 'must not contain a fragment');

/** The method a client authenticates with when it names none: a public client none, others Basic. */
export const clientAuthMethodOf = (client: {
  public: boolean;
  tokenEndpointAuthMethod?: ClientAuthMethod | undefined;
}): ClientAuthMethod => client.tokenEndpointAuthMethod ?? (client.public ? 'none' : 'client_secret_basic');

/** Whether a client authenticates with a shared secret (and so must have one). */
export const usesSecret = (client: {
  public: boolean;
  tokenEndpointAuthMethod?: ClientAuthMethod | undefined;
}): boolean => {
  const method = clientAuthMethodOf(client);
  return method === 'client_secret_basic' || method === 'client_secret_post';
};
