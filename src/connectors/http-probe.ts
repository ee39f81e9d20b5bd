import type { ConnectionTestReport } from './connector.ts';

/**
 * The steps of an HTTP upstream's connection test (OpenID Connect, OAuth 2.0): each a request with a
 * deadline whose answer is judged; the report stops at the first step that fails, as LDAP's does.
 */

type Step = ConnectionTestReport['steps'][number];

/** A step's verdict: its detail for the admin, or a failure to report (thrown as ProbeFailure). */
export class ProbeFailure extends Error {
  override name = 'ProbeFailure';
}

export class ProbeSteps {
  readonly steps: Step[] = [];
  #failed = false;

  /** Runs `work` as the step `name` unless an earlier one failed; undefined when it fails. */
  async run<T>(name: string, work: () => Promise<{ value: T; detail: string }>): Promise<T | undefined> {
    if (this.#failed) return undefined;
    const started = performance.now();
    try {
      const { value, detail } = await work();
      this.steps.push({ step: name, ok: true, detail, durationMs: Math.round(performance.now() - started) });
      return value;
    } catch (error) {
      this.#failed = true;
      this.steps.push({
        step: name,
        ok: false,
        detail: error instanceof ProbeFailure ? error.message : describeFetchError(error),
        durationMs: Math.round(performance.now() - started),
      });
      return undefined;
    }
  }

  report(url?: string): ConnectionTestReport {
    return { ok: !this.#failed, ...(url !== undefined && { url }), steps: this.steps };
  }
}

/** Why a request got no answer, in words an admin can act on (never the secret it may have carried). */
function describeFetchError(error: unknown): string {
  const err = error as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (err.name === 'TimeoutError' || err.name === 'AbortError') return 'no answer within the time allowed';
  const cause = err.cause?.code ?? err.cause?.message;
  return cause ? `no answer: ${cause}` : `no answer: ${err.message ?? String(error)}`;
}

export interface ProbeAnswer {
  status: number;
  contentType: string;
  json: unknown;
}

/** One request without following redirects; the body read as JSON where it is JSON. */
export async function probe(
  url: string,
  timeoutMs: number,
  init: { method?: 'GET' | 'POST'; form?: Record<string, string> } = {},
): Promise<ProbeAnswer> {
  const response = await fetch(url, {
    method: init.method ?? 'GET',
    redirect: 'manual',
    signal: AbortSignal.timeout(timeoutMs),
    headers: {
      accept: 'application/json',
      ...(init.form && { 'content-type': 'application/x-www-form-urlencoded' }),
    },
    ...(init.form && { body: new URLSearchParams(init.form).toString() }),
  });
  const contentType = response.headers.get('content-type') ?? '';
  const text = await response.text();
  let json: unknown;
  if (/json/i.test(contentType) || /^\s*[[{]/.test(text))
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
  return { status: response.status, contentType, json };
}

/**
 * The token endpoint asked to redeem a made-up code with no client authentication: an OAuth 2.0
 * token endpoint refuses with 400/401 and a JSON `error` (RFC 6749 §5.2), which proves it is one
 * without spending the client's secret on a test.
 */
export async function probeTokenEndpoint(
  steps: ProbeSteps,
  tokenUrl: string,
  timeoutMs: number,
): Promise<boolean> {
  const answered = await steps.run('token endpoint', async () => {
    const answer = await probe(tokenUrl, timeoutMs, {
      method: 'POST',
      form: { grant_type: 'authorization_code', code: 'lock-connection-test' },
    });
    const error = (answer.json as { error?: unknown } | undefined)?.error;
    if ((answer.status === 400 || answer.status === 401) && typeof error === 'string')
      return {
        value: true,
        detail: `${tokenUrl} answered ${answer.status} ${error} to an unauthenticated request, as an OAuth 2.0 token endpoint does`,
      };
    throw new ProbeFailure(
      `${tokenUrl} answered ${answer.status}${typeof error === 'string' ? ` ${error}` : ''} to an unauthenticated request: an OAuth 2.0 token endpoint answers 400 or 401 with a JSON error`,
    );
  });
  return answered === true;
}

/** A URL the browser or Lock will call answers at all (any status below 500 without credentials). */
export async function probeReachable(
  steps: ProbeSteps,
  name: string,
  url: string,
  timeoutMs: number,
): Promise<void> {
  await steps.run(name, async () => {
    const answer = await probe(url, timeoutMs);
    if (answer.status >= 500) throw new ProbeFailure(`${url} answered ${answer.status}: the server failed`);
    return { value: true, detail: `${url} answered ${answer.status}` };
  });
}
