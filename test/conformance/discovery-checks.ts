import assert from 'node:assert/strict';
import type { startTlsOp } from './op.ts';

type TlsOp = Awaited<ReturnType<typeof startTlsOp>>;

/** GetDynamicServerConfiguration: 200, JSON, from <issuer>/.well-known/openid-configuration. */
export async function fetchDiscovery(op: TlsOp) {
  const url = `${op.lock.issuer}/.well-known/openid-configuration`;
  const answer = await op.get(url);
  assert.equal(answer.status, 200);
  assert.match(answer.contentType, /^application\/json/);
  return JSON.parse(answer.body) as Record<string, unknown>;
}

/** CheckDiscEndpointAllEndpointsAreHttps: every *_endpoint and jwks_uri is an https URL. */
export function assertAllEndpointsHttps(discovery: Record<string, unknown>) {
  const endpoints = Object.entries(discovery).filter(
    ([name]) => name.endsWith('_endpoint') || name === 'jwks_uri',
  );
  assert.ok(endpoints.length >= 4);
  for (const [name, value] of endpoints)
    assert.equal(new URL(String(value)).protocol, 'https:', `${name} is https`);
}
