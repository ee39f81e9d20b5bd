import { once } from 'node:events';
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';

/**
 * A TCP proxy on loopback in front of a directory, to take it away from Lock on cue: `down()`
 * drops every connection and refuses new ones (a stopped server), `blackhole()` accepts connections
 * and never answers (a hung or unreachable one). It counts the connections it accepted.
 */
export class TcpProxy {
  readonly #target: { host: string; port: number };
  readonly #sockets = new Set<Socket>();
  #server: Server | undefined;
  #mode: 'forward' | 'blackhole' = 'forward';
  port = 0;
  accepted = 0;

  constructor(target: string) {
    const url = new URL(target);
    this.#target = { host: url.hostname, port: Number(url.port) };
  }

  /** Listens (again, on the same port after `down()`). */
  async up(): Promise<void> {
    const server = createServer((client) => this.#accept(client));
    server.listen(this.port, '127.0.0.1');
    await once(server, 'listening');
    this.port = (server.address() as { port: number }).port;
    this.#server = server;
    this.#mode = 'forward';
  }

  #accept(client: Socket): void {
    this.accepted += 1;
    this.#sockets.add(client);
    client.on('close', () => this.#sockets.delete(client));
    client.on('error', () => client.destroy());
    if (this.#mode === 'blackhole') return;
    const upstream = tcpConnect(this.#target.port, this.#target.host);
    this.#sockets.add(upstream);
    upstream.on('close', () => {
      this.#sockets.delete(upstream);
      client.destroy();
    });
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    client.pipe(upstream).pipe(client);
  }

  /** Breaks every open connection (pooled ones included), as a crashed server would. */
  dropConnections(): void {
    for (const socket of this.#sockets) socket.destroy();
  }

  /** The directory is gone: connections reset, new ones refused. */
  async down(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    this.dropConnections();
    if (server) await new Promise((resolve) => server.close(resolve));
  }

  /** Connections are accepted and then nothing ever comes back. */
  blackhole(): void {
    this.#mode = 'blackhole';
    this.dropConnections();
  }

  get url(): string {
    return `ldap://127.0.0.1:${this.port}`;
  }

  async close(): Promise<void> {
    await this.down();
  }
}
