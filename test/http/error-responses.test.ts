// One error model (docs/development.md, "Errors"): whatever fails, the caller gets it in one form per
// kind of caller — problem details from the admin API, OAuth JSON from the rest, one error page in a browser.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { tokenConfig } from '../helpers/fixtures.ts';
import { type RunningLock, startLock } from '../helpers/lock.ts';

const HTML = { accept: 'text/html' };
const JSON_ONLY = { accept: 'application/json' };

/** The one error page: Lock's layout, its title and message, a strict CSP, never cached. */
async function assertErrorPage(response: Response, status: number, text: RegExp) {
  assert.equal(response.status, status);
  assert.match(response.headers.get('content-type')!, /^text\/html/);
  assert.match(response.headers.get('content-security-policy')!, /default-src 'none'/);
  assert.equal(response.headers.get('cache-control'), 'no-store');
  const page = await response.text();
  assert.match(page, /<link rel="stylesheet" href="\/assets\/lock\.css"/);
  assert.match(page, text);
}

describe('error responses', () => {
  let lock: RunningLock;
  before(async () => {
    lock = await startLock({ config: tokenConfig });
  });
  after(async () => {
    await lock.close();
    await lock.database.drop();
  });

  it('answers the admin API’s errors as RFC 9457 problem details, keeping `error`', async () => {
    const response = await fetch(`${lock.issuer}/admin/api/v1/roles`);
    assert.equal(response.status, 401);
    assert.match(response.headers.get('content-type')!, /^application\/problem\+json/);
    assert.match(response.headers.get('www-authenticate')!, /^Bearer realm="/);
    const body = (await response.json()) as Record<string, unknown>;
    assert.equal(body.type, 'urn:lock:problem:unauthorized');
    assert.equal(body.status, 401);
    assert.equal(typeof body.title, 'string');
    assert.match(String(body.detail), /an access token for .*\/admin is required/);
    assert.equal(body.error, body.detail);

    const refused = await fetch(`${lock.issuer}/admin/api/v1/roles`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"name":"x\\u0000"}',
    });
    assert.equal(refused.status, 400);
    assert.match(refused.headers.get('content-type')!, /^application\/problem\+json/);
    const problem = (await refused.json()) as Record<string, unknown>;
    assert.equal(problem.type, 'urn:lock:problem:invalid_request');
    assert.match(String(problem.detail), /JSON member "name" contains a control character/);
  });

  it('documents the problem details in the OpenAPI document', async () => {
    const document = (await (await fetch(`${lock.issuer}/admin/api/v1/openapi.json`)).json()) as {
      components: { schemas: Record<string, { required?: string[] }> };
      paths: Record<string, Record<string, { responses: Record<string, { content?: object }> }>>;
    };
    assert.deepEqual(document.components.schemas.ProblemDetails?.required?.sort(), [
      'detail',
      'error',
      'status',
      'title',
      'type',
    ]);
    assert.deepEqual(Object.keys(document.paths['/roles']!.get!.responses['401']!.content!), [
      'application/problem+json',
    ]);
  });

  it('answers a path nothing serves with the error page, or OAuth JSON', async () => {
    await assertErrorPage(
      await fetch(`${lock.issuer}/assets/nothing.css`, { headers: HTML }),
      404,
      /nothing at \/assets\/nothing\.css/,
    );
    const json = await fetch(`${lock.issuer}/saml/nobody/metadata`, { headers: JSON_ONLY });
    assert.equal(json.status, 404);
    assert.deepEqual(await json.json(), { error: 'not_found', error_description: 'no such SAML connector' });
    await assertErrorPage(
      await fetch(`${lock.issuer}/saml/nobody/metadata`, { headers: HTML }),
      404,
      /no such SAML connector/,
    );
  });

  it('renders oidc-provider’s errors with the same page', async () => {
    await assertErrorPage(
      await fetch(`${lock.issuer}/auth?client_id=nobody&response_type=code&scope=openid`, { headers: HTML }),
      400,
      /<h1>Unknown application<\/h1>[\s\S]*<details class="developer-details">[\s\S]*client is invalid/,
    );
  });

  it('refuses malformed input at the edge in the caller’s form', async () => {
    await assertErrorPage(
      await fetch(`${lock.issuer}/interaction/x?a=%00`, { headers: HTML }),
      400,
      /query parameter \\?&quot;a\\?&quot; contains a control character|query parameter "a" contains a control character/,
    );
    const json = await fetch(`${lock.issuer}/token?a=%00`, { method: 'POST', headers: JSON_ONLY });
    assert.equal(json.status, 400);
    const body = (await json.json()) as { error: string; error_description: string };
    assert.equal(body.error, 'invalid_request');
    assert.match(body.error_description, /query parameter "a" contains a control character/);
  });
});
