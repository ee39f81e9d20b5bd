import { createHash, randomBytes } from 'node:crypto';
import { readLoginForm, UserAgent } from '../../test/helpers/user-agent.ts';
import type { ServerProcess } from './server-process.ts';
import { resourceFor, USERNAME, WEB_CLIENT_ID, WEB_REDIRECT_URI } from './workload.ts';

export interface FlowFigures {
  perSecond: number;
  completed: number;
  latencyMs: { p50: number; p99: number };
  problems: string[];
}

const basic = (clientId: string, secret: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`;

export async function tokenRequest(
  server: ServerProcess,
  secret: string,
  form: Record<string, string>,
  clientId: string = WEB_CLIENT_ID,
) {
  const response = await fetch(`${server.url}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(clientId, secret) },
    body: new URLSearchParams(form),
  });
  const body = (await response.json()) as Record<string, string>;
  if (response.status !== 200) throw new Error(`token endpoint answered ${response.status} ${body.error}`);
  return body;
}

/** One whole sign-in as a browser and a relying party do it: authorize → login form → code → tokens. */
export async function signInFlow(
  server: ServerProcess,
  secret: string,
  password: string,
  clientId: string = WEB_CLIENT_ID,
): Promise<Record<string, string>> {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const url = new URL(`${server.url}/auth`);
  for (const [name, value] of Object.entries({
    client_id: clientId,
    response_type: 'code',
    scope: 'openid',
    redirect_uri: WEB_REDIRECT_URI,
    resource: resourceFor('ES256'),
    code_challenge: challenge,
    code_challenge_method: 'S256',
  }))
    url.searchParams.set(name, value);
  const agent = new UserAgent(server.url);
  const page = await agent.follow(url.toString());
  // The bare oidc-provider approves at once and sends the browser straight back: no login form.
  const submitted = page.left ? page : await submitLoginForm(agent, page, password);
  const code = submitted.left ? new URL(submitted.left).searchParams.get('code') : null;
  if (!code)
    throw new Error(`the sign-in did not end at the callback with a code (${submitted.response.status})`);
  return tokenRequest(
    server,
    secret,
    { grant_type: 'authorization_code', code, redirect_uri: WEB_REDIRECT_URI, code_verifier: verifier },
    clientId,
  );
}

async function submitLoginForm(
  agent: UserAgent,
  page: Awaited<ReturnType<UserAgent['follow']>>,
  password: string,
) {
  const form = readLoginForm(await page.response.text());
  return agent.follow(new URL(form.action, page.url!).toString(), {
    form: { csrf: form.csrf, username: USERNAME, password },
  });
}

/** Runs `concurrency` loops of `step` for `durationS` seconds and reports completions per second. */
async function loop(
  durationS: number,
  concurrency: number,
  prepare: () => Promise<() => Promise<void>>,
): Promise<FlowFigures> {
  const latencies: number[] = [];
  const problems: string[] = [];
  const steps = await Promise.all(Array.from({ length: concurrency }, prepare));
  const started = performance.now();
  await Promise.all(
    steps.map(async (step) => {
      while (performance.now() - started < durationS * 1000) {
        const t0 = performance.now();
        try {
          await step();
          latencies.push(performance.now() - t0);
        } catch (error) {
          problems.push((error as Error).message);
          if (problems.length > 5) return;
        }
      }
    }),
  );
  const elapsedS = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return {
    perSecond: latencies.length / elapsedS,
    completed: latencies.length,
    latencyMs: { p50: Math.round(at(0.5)), p99: Math.round(at(0.99)) },
    problems: [...new Set(problems)],
  };
}

export function measureLoginFlows(
  server: ServerProcess,
  secret: string,
  password: string,
  durationS: number,
  concurrency: number,
) {
  return loop(durationS, concurrency, async () => async () => {
    await signInFlow(server, secret, password);
  });
}
