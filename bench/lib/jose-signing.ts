import { randomUUID } from 'node:crypto';
import { generateKeyPair, SignJWT } from 'jose';
import { type CpuRate, measureCpuRate } from './cpu-rate.ts';
import {
  ACCESS_TOKEN_TTL,
  CLIENT_ID,
  REQUESTED_SCOPE,
  ROLE_CLAIMS,
  resourceFor,
  type SigningAlg,
} from './workload.ts';

/** Access tokens signed per second with jose alone, in this process: the cost of the signature itself. */
export async function joseSigningRate(alg: SigningAlg, durationMs: number): Promise<CpuRate> {
  const { privateKey } = await generateKeyPair(alg, {
    ...(alg === 'RS256' ? { modulusLength: 2048 } : alg === 'EdDSA' ? { crv: 'Ed25519' } : {}),
  });
  const now = Math.floor(Date.now() / 1000);
  const claims = {
    iss: 'http://127.0.0.1',
    sub: CLIENT_ID,
    aud: resourceFor(alg),
    iat: now,
    exp: now + ACCESS_TOKEN_TTL,
    jti: randomUUID(),
    client_id: CLIENT_ID,
    scope: REQUESTED_SCOPE,
    ...ROLE_CLAIMS,
  };
  return measureCpuRate(
    () =>
      new SignJWT(claims).setProtectedHeader({ alg, typ: 'at+jwt', kid: `bench-${alg}` }).sign(privateKey),
    durationMs,
  );
}
