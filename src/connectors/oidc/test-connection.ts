import type { ConnectionTestReport } from '../connector.ts';
import { ProbeFailure, ProbeSteps, probe, probeTokenEndpoint } from '../http-probe.ts';

/**
 * An OpenID Connect connector's connection test, step by step: the upstream's discovery document
 * (its `issuer` exactly the configured one, OIDC Discovery §4.3), its JWKS (signing keys to check ID
 * tokens with), and its token endpoint's answer to an unauthenticated request.
 */
export async function testOidcUpstream(
  config: { issuer: string },
  options: { timeoutMs: number },
): Promise<ConnectionTestReport> {
  const steps = new ProbeSteps();
  const discoveryUrl = `${config.issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
  const metadata = await steps.run('discovery', async () => {
    const answer = await probe(discoveryUrl, options.timeoutMs);
    if (answer.status !== 200) throw new ProbeFailure(`${discoveryUrl} answered ${answer.status}, not 200`);
    const document = answer.json as Record<string, unknown> | undefined;
    if (!document || typeof document !== 'object' || Array.isArray(document))
      throw new ProbeFailure(`${discoveryUrl} did not answer a JSON discovery document`);
    if (document.issuer !== config.issuer)
      throw new ProbeFailure(
        `the discovery document names the issuer ${JSON.stringify(document.issuer)}, not ${config.issuer}: set issuer to exactly the upstream's`,
      );
    const missing = ['authorization_endpoint', 'token_endpoint', 'jwks_uri'].filter(
      (member) => typeof document[member] !== 'string',
    );
    if (missing.length > 0) throw new ProbeFailure(`the discovery document has no ${missing.join(', ')}`);
    const value = {
      tokenEndpoint: document.token_endpoint as string,
      jwksUri: document.jwks_uri as string,
    };
    return {
      value,
      detail: `issuer ${config.issuer}: sign-in at ${document.authorization_endpoint as string}, tokens at ${value.tokenEndpoint}`,
    };
  });
  if (!metadata) return steps.report(discoveryUrl);
  await steps.run('jwks', async () => {
    const answer = await probe(metadata.jwksUri, options.timeoutMs);
    if (answer.status !== 200)
      throw new ProbeFailure(`${metadata.jwksUri} answered ${answer.status}, not 200`);
    const keys = (answer.json as { keys?: unknown } | undefined)?.keys;
    if (!Array.isArray(keys)) throw new ProbeFailure(`${metadata.jwksUri} is not a JWK set (no keys)`);
    const signing = keys.filter(
      (key): key is Record<string, unknown> =>
        typeof key === 'object' && key !== null && (key as { use?: unknown }).use !== 'enc',
    );
    if (signing.length === 0)
      throw new ProbeFailure(`${metadata.jwksUri} publishes no signing key: ID tokens could not be checked`);
    const named = signing.map((key) => `${String(key.kid ?? '(no kid)')} ${String(key.alg ?? key.kty)}`);
    return { value: true, detail: `${signing.length} signing key(s): ${named.join(', ')}` };
  });
  await probeTokenEndpoint(steps, metadata.tokenEndpoint, options.timeoutMs);
  return steps.report(discoveryUrl);
}
