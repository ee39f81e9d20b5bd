import { isDeepStrictEqual } from 'node:util';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import type { ServerProcess } from './server-process.ts';
import { type HttpRequestSpec, ROLE_CLAIMS, resourceFor, type SigningAlg } from './workload.ts';

/**
 * One request before the load, to be sure both servers answer what is being compared: an at+jwt
 * signed with `alg`, for the API, with the same role claims. Answers the problems (none is fine).
 */
export async function checkAccessToken(
  server: ServerProcess,
  alg: SigningAlg,
  spec: HttpRequestSpec,
): Promise<string[]> {
  const response = await fetch(`${server.url}${spec.path}`, {
    method: spec.method,
    ...(spec.headers && { headers: spec.headers }),
    ...(spec.body !== undefined && { body: spec.body }),
  });
  const body = (await response.json()) as { access_token?: string; error?: string };
  const where = `${server.name} ${alg}`;
  if (response.status !== 200 || typeof body.access_token !== 'string')
    return [`${where}: token request answered ${response.status} ${body.error ?? ''}`.trim()];
  const header = decodeProtectedHeader(body.access_token);
  const claims = decodeJwt(body.access_token);
  const problems: string[] = [];
  if (header.alg !== alg) problems.push(`${where}: signed with ${header.alg}`);
  if (header.typ !== 'at+jwt') problems.push(`${where}: typ is ${header.typ}`);
  if (claims.aud !== resourceFor(alg)) problems.push(`${where}: aud is ${JSON.stringify(claims.aud)}`);
  if (!isDeepStrictEqual(claims.roles, ROLE_CLAIMS.roles) || claims.role !== ROLE_CLAIMS.role)
    problems.push(`${where}: role claims are ${JSON.stringify({ roles: claims.roles, role: claims.role })}`);
  return problems;
}
