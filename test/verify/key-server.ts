import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { JWK } from 'jose';

/** An issuer's discovery document and JWKS on 127.0.0.1, counting the requests it answers. */
export interface KeyServer {
  issuer: string;
  jwksUri: string;
  /** The keys `/jwks` serves from now on. */
  keys: JWK[];
  cacheControl: string | undefined;
  /** Answer discovery with this status (and no document) while set. */
  discoveryStatus: number | undefined;
  /** Answer the JWKS with this status (and no keys) while set: the issuer is down. */
  jwksStatus: number | undefined;
  requests: { discovery: number; jwks: number };
  close(): Promise<void>;
}

export async function startKeyServer(keys: JWK[], cacheControl?: string): Promise<KeyServer> {
  const server = createServer((request, response) => {
    if (request.url === '/.well-known/openid-configuration') {
      keyServer.requests.discovery++;
      if (keyServer.discoveryStatus !== undefined) response.writeHead(keyServer.discoveryStatus).end();
      else json(response, { issuer: keyServer.issuer, jwks_uri: keyServer.jwksUri });
    } else if (request.url === '/jwks') {
      keyServer.requests.jwks++;
      if (keyServer.jwksStatus !== undefined) response.writeHead(keyServer.jwksStatus).end();
      else json(response, { keys: keyServer.keys }, keyServer.cacheControl);
    } else {
      response.writeHead(404).end();
    }
  });
  const port = await listen(server);
  const keyServer: KeyServer = {
    issuer: `http://127.0.0.1:${port}`,
    jwksUri: `http://127.0.0.1:${port}/jwks`,
    keys,
    cacheControl,
    discoveryStatus: undefined,
    jwksStatus: undefined,
    requests: { discovery: 0, jwks: 0 },
    close: () => closeServer(server),
  };
  return keyServer;
}

/** A server that accepts connections and never answers. */
export async function startSilentServer(): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer(() => {});
  const port = await listen(server);
  return { url: `http://127.0.0.1:${port}`, close: () => closeServer(server) };
}

/** A URL on a port nothing listens on: the connection is refused. */
export async function refusedUrl(): Promise<string> {
  const server = createServer();
  const port = await listen(server);
  await closeServer(server);
  return `http://127.0.0.1:${port}`;
}

function json(response: ServerResponse, body: unknown, cacheControl?: string) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (cacheControl !== undefined) headers['cache-control'] = cacheControl;
  response.writeHead(200, headers).end(JSON.stringify(body));
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
