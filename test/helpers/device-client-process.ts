import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export interface DeviceStarted {
  device_code: string;
  user_code: string;
  verification_uri: string;
  verification_uri_complete?: string;
  expires_in: number;
  interval?: number;
}

export type DeviceOutcome =
  | { tokens: { access_token: string; id_token?: string; refresh_token?: string; token_type: string } }
  | { error: string; description?: string };

export interface DeviceClient {
  /** What the device shows the person: the user code and where to enter it. */
  started: DeviceStarted;
  /** How its polling ended: tokens, or the RFC 8628 error. */
  outcome: Promise<DeviceOutcome>;
  kill(): void;
}

const SCRIPT = fileURLToPath(new URL('./device-client.ts', import.meta.url));

/** A device-flow client (openid-client) in a process of its own: it starts the flow and polls. */
export async function startDeviceClient(options: {
  issuer: string;
  clientId: string;
  clientSecret?: string;
  scope: string;
  resource?: string;
}): Promise<DeviceClient> {
  const child = spawn(process.execPath, [SCRIPT, JSON.stringify(options)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const first = JSON.parse(String((await lines.next()).value)) as { started?: DeviceStarted; error?: string };
  if (!first.started) {
    child.kill();
    throw new Error(`the device client could not start: ${JSON.stringify(first)}`);
  }
  const outcome = lines.next().then(({ value }) => {
    if (value === undefined) throw new Error('the device client ended without an outcome');
    return JSON.parse(String(value)) as DeviceOutcome;
  });
  return { started: first.started, outcome, kill: () => child.kill() };
}
