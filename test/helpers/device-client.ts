// A device (a CLI, a TV) as its own process: openid-client runs RFC 8628 against Lock. Started by
// startDeviceClient (device-client-process.ts) as `node test/helpers/device-client.ts <json>`;
// writes one JSON line when the user code is known, one when polling ends.
import * as oidc from 'openid-client';

const { issuer, clientId, clientSecret, scope, resource } = JSON.parse(process.argv[2]!) as {
  issuer: string;
  clientId: string;
  clientSecret?: string;
  scope: string;
  resource?: string;
};

const say = (line: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(line)}\n`);

try {
  const config = await oidc.discovery(
    new URL(issuer),
    clientId,
    clientSecret,
    clientSecret === undefined ? oidc.None() : undefined,
    { execute: [oidc.allowInsecureRequests] },
  );
  const started = await oidc.initiateDeviceAuthorization(config, {
    scope,
    ...(resource !== undefined && { resource }),
  });
  say({ started });
  const tokens = await oidc.pollDeviceAuthorizationGrant(config, started);
  say({ tokens: { ...tokens } });
} catch (error) {
  const { error: code, error_description: description } = error as {
    error?: string;
    error_description?: string;
  };
  say({ error: code ?? String(error), ...(description !== undefined && { description }) });
}
