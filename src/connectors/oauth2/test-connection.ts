import type { ConnectionTestReport } from '../connector.ts';
import { ProbeSteps, probeReachable, probeTokenEndpoint } from '../http-probe.ts';

/**
 * A plain OAuth 2.0 connector's connection test, step by step: the token endpoint's answer to an
 * unauthenticated request, then each URL it is configured with answers at all (without a token an
 * API answers 401; a server that fails or no server is what the test catches).
 */
export async function testOAuth2Upstream(
  config: { authorizationUrl: string; tokenUrl: string; userinfoUrl: string; groupsUrl?: string | undefined },
  options: { timeoutMs: number },
): Promise<ConnectionTestReport> {
  const steps = new ProbeSteps();
  await probeTokenEndpoint(steps, config.tokenUrl, options.timeoutMs);
  await probeReachable(steps, 'authorization endpoint', config.authorizationUrl, options.timeoutMs);
  await probeReachable(steps, 'userinfo', config.userinfoUrl, options.timeoutMs);
  if (config.groupsUrl !== undefined)
    await probeReachable(steps, 'groups', config.groupsUrl, options.timeoutMs);
  return steps.report(config.tokenUrl);
}
