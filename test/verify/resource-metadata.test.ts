import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import {
  bearerChallenge,
  protectedResourceMetadata,
  protectedResourceMetadataUrl,
  serveProtectedResourceMetadata,
  TokenVerificationError,
  withResourceMetadata,
} from '../../src/verify/index.ts';

describe('lock/verify: RFC 9728 protected resource metadata', () => {
  it('puts the well-known segment between host and path (RFC 9728 §3.1)', () => {
    assert.equal(
      protectedResourceMetadataUrl('https://api.example.com'),
      'https://api.example.com/.well-known/oauth-protected-resource',
    );
    assert.equal(
      protectedResourceMetadataUrl('https://api.example.com/mcp/'),
      'https://api.example.com/.well-known/oauth-protected-resource/mcp',
    );
  });

  it('adds resource_metadata to a challenge, with or without an error', () => {
    const missing = new TokenVerificationError('invalid_request', 'missing_token', 'no token');
    assert.equal(
      withResourceMetadata(bearerChallenge(missing)!, 'https://api.example.com/mcp'),
      'Bearer resource_metadata="https://api.example.com/.well-known/oauth-protected-resource/mcp"',
    );
    const bad = new TokenVerificationError('invalid_token', 'expired', 'expired');
    assert.equal(
      withResourceMetadata(bearerChallenge(bad, 'api')!, 'https://api.example.com'),
      'Bearer realm="api", error="invalid_token", resource_metadata="https://api.example.com/.well-known/oauth-protected-resource"',
    );
  });

  it('serves the document on a Node server at its path only', async () => {
    const metadata = protectedResourceMetadata({
      resource: 'https://api.example.com/mcp',
      authorizationServers: ['https://lock.example.com'],
      scopesSupported: ['read'],
    });
    const server = createServer((request, response) => {
      if (!serveProtectedResourceMetadata(request, response, metadata)) response.writeHead(404).end();
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const found = await fetch(`${base}/.well-known/oauth-protected-resource/mcp`);
      assert.equal(found.status, 200);
      assert.deepEqual(await found.json(), {
        resource: 'https://api.example.com/mcp',
        authorization_servers: ['https://lock.example.com'],
        scopes_supported: ['read'],
        bearer_methods_supported: ['header'],
      });
      assert.equal((await fetch(`${base}/.well-known/oauth-protected-resource`)).status, 404);
      assert.equal(
        (await fetch(`${base}/.well-known/oauth-protected-resource/mcp`, { method: 'POST' })).status,
        405,
      );
    } finally {
      server.close();
    }
  });
});
