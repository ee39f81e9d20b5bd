import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ClientCallback {
  /** The redirect URI to register: http://127.0.0.1:<port>/callback */
  url: string;
  /** The last request that reached /callback (code, state, error…). */
  lastCallback(): URL | undefined;
  close(): void;
}

/** A relying party's callback on loopback for browser tests: it records what arrives and says "Signed in". */
export async function startClientCallback(): Promise<ClientCallback> {
  const received: URL[] = [];
  let url = '';
  const server = createServer((request, response) => {
    received.push(new URL(request.url!, url));
    response.setHeader('content-type', 'text/html');
    response.end('<!doctype html><title>Client</title><p id="done">Signed in</p>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/callback`;
  return {
    url,
    lastCallback: () => received.findLast((at) => at.pathname === '/callback'),
    close: () => server.close(),
  };
}
