// The sign-in path under attack: what the atomic reservation of attempts adds to a sign-in, and
// whether the three kinds of failed sign-in (unknown user, wrong password, locked out) take the
// same time — each kind's median measured from one request at a time, so that nothing else queues.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { BruteForceGuard } from '../../src/security/brute-force.ts';
import { readLoginForm, UserAgent } from '../../test/helpers/user-agent.ts';
import { measureCpuRate } from './cpu-rate.ts';
import type { BenchReport } from './report.ts';
import type { ServerProcess } from './server-process.ts';
import { resourceFor, USERNAME, WEB_CLIENT_ID, WEB_REDIRECT_URI } from './workload.ts';

const RESERVATION_TARGET_SHARE = 0.05;
/** Per kind; with the 30 posts that lock a name, the run stays below the per-address threshold (100). */
const TIMING_SAMPLES = 20;
const LOCKED_NAME = 'bench-locked-out';
const UNKNOWN_NAME = 'bench-nobody';

type FailureKind = 'unknown user' | 'wrong password' | 'locked out';

/** A login form of a fresh interaction, and a function that posts it once and times the answer. */
async function loginForm(server: ServerProcess) {
  const url = new URL(`${server.url}/auth`);
  for (const [name, value] of Object.entries({
    client_id: WEB_CLIENT_ID,
    response_type: 'code',
    scope: 'openid',
    redirect_uri: WEB_REDIRECT_URI,
    resource: resourceFor('ES256'),
    code_challenge: createHash('sha256').update(randomBytes(32)).digest('base64url'),
    code_challenge_method: 'S256',
  }))
    url.searchParams.set(name, value);
  const agent = new UserAgent(server.url);
  const page = await agent.follow(url.toString());
  const form = readLoginForm(await page.response.text());
  const action = new URL(form.action, page.url!).toString();
  return async (username: string, password: string) => {
    const started = performance.now();
    const response = await agent.request(action, { form: { csrf: form.csrf, username, password } });
    const body = await response.text();
    const elapsedMs = performance.now() - started;
    return {
      elapsedMs,
      refused: response.status === 401 && body.includes('Incorrect username or password.'),
    };
  };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
};

/** Medians of each failure kind, the kinds interleaved so that a slow moment of the machine hits all three. */
async function failureTimings(server: ServerProcess, problems: string[]) {
  for (let post = 0; post < 30; post++) await (await loginForm(server))(LOCKED_NAME, `guess ${post}`);
  const kinds: Array<[FailureKind, string, string]> = [
    ['unknown user', UNKNOWN_NAME, 'a wrong password'],
    ['wrong password', USERNAME, 'a wrong password'],
    ['locked out', LOCKED_NAME, 'a wrong password'],
  ];
  const times = new Map<FailureKind, number[]>(kinds.map(([kind]) => [kind, []]));
  for (let sample = 0; sample < TIMING_SAMPLES; sample++)
    for (const [kind, username, password] of kinds) {
      const post = await loginForm(server);
      const { elapsedMs, refused } = await post(username, password);
      if (!refused) problems.push(`${kind}: the post was not refused with the wrong-password page`);
      times.get(kind)!.push(elapsedMs);
    }
  return kinds.map(([kind]) => ({ kind, medianMs: median(times.get(kind)!) }));
}

/** Adds "failure timing spread" and the reservation's cost to the report's user flows. */
export async function measureSigninAttacks(
  report: BenchReport,
  lock: ServerProcess,
  databaseUrl: string,
  figures: { loginP50Ms: number; argon2VerifyMs: number },
  progress: (line: string) => void,
): Promise<void> {
  progress(
    'measuring the atomic reservation of sign-in attempts (reserve name, address, account; clear on success)…',
  );
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 1 });
  try {
    const guard = new BruteForceGuard(pool);
    const account = { connector: 'local', upstreamId: 'bench-account', username: 'bench-account' };
    const cost = await measureCpuRate(async () => {
      // Every sign-in is a new interaction: its counter is a new row, as in real use.
      await guard.reserve({ username: 'bench-account', address: '127.0.0.1', interaction: randomUUID() });
      await guard.reserveAccount(account);
      await guard.recordSuccess({ username: 'bench-account', account, address: '127.0.0.1' });
    }, 2000);
    const reservationMs = 1000 / cost.oneAtATimePerSecond;
    report.flows.push({
      name: `attempt reservation per sign-in (${reservationMs.toFixed(2)} ms of the login's p50)`,
      perSecond: cost.oneAtATimePerSecond,
      latencyMs: { p50: reservationMs, p99: reservationMs },
      concurrency: 1,
      target: `< ${RESERVATION_TARGET_SHARE * 100} % of a sign-in`,
      met: reservationMs < RESERVATION_TARGET_SHARE * figures.loginP50Ms,
    });
  } finally {
    await pool.end();
  }

  progress(
    `measuring failed sign-ins one at a time: unknown user, wrong password, locked out (${TIMING_SAMPLES} each)…`,
  );
  const problems: string[] = [];
  const medians = await failureTimings(lock, problems);
  report.problems.push(...[...new Set(problems)].map((problem) => `failure timing: ${problem}`));
  const values = medians.map((entry) => entry.medianMs);
  const spreadMs = Math.max(...values) - Math.min(...values);
  report.flows.push({
    name: `failure timing spread ${spreadMs.toFixed(1)} ms (medians: ${medians
      .map((entry) => `${entry.kind} ${entry.medianMs.toFixed(1)}`)
      .join(', ')} ms)`,
    perSecond: 0,
    latencyMs: { p50: Math.max(...values), p99: Math.max(...values) },
    concurrency: 1,
    target: `spread < one argon2 verify (${figures.argon2VerifyMs.toFixed(1)} ms)`,
    met: spreadMs < figures.argon2VerifyMs,
  });
}
