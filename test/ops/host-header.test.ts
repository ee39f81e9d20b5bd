import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { tokenConfig } from '../helpers/fixtures.ts';
import { type RunningLock, startLock } from '../helpers/lock.ts';

/** A raw HTTP/1.1 request: fetch will not send a Host of our choosing or an absolute target. */
function rawGet(issuer: string, target: string, headers: Record<string, string>) {
  const { hostname, port } = new URL(issuer);
  return new Promise<{ status: number; headers: Record<string, unknown>; body: string }>(
    (resolve, reject) => {
      const req = request({ hostname, port, path: target, method: 'GET', headers }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => {
          body += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      });
      req.on('error', reject);
      req.end();
    },
  );
}

/** Every URL a discovery document lists, by member. */
function urlsIn(discovery: Record<string, unknown>): Array<[string, string]> {
  return Object.entries(discovery).filter(
    (entry): entry is [string, string] => typeof entry[1] === 'string' && /^https?:/.test(entry[1]),
  );
}

for (const trustProxy of [false, true])
  describe(`the Host header is not reflected (LOCK_TRUST_PROXY=${trustProxy})`, () => {
    let lock: RunningLock;
    before(async () => {
      lock = await startLock({ config: tokenConfig, env: { LOCK_TRUST_PROXY: String(trustProxy) } });
    });
    after(async () => {
      await lock.close();
      await lock.database.drop();
    });

    const forgeries: Array<[string, string, Record<string, string>]> = [
      ['Host', '/.well-known/openid-configuration', { host: 'evil.example' }],
      ['X-Forwarded-Host', '/.well-known/openid-configuration', { 'x-forwarded-host': 'evil.example' }],
      [
        'X-Forwarded-Host and -Proto',
        '/.well-known/openid-configuration',
        { host: 'evil.example', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https' },
      ],
      ['an absolute request target', 'http://evil.example/.well-known/openid-configuration', {}],
    ];
    for (const [what, target, headers] of forgeries)
      it(`builds discovery from the issuer whatever ${what} says`, async () => {
        const response = await rawGet(lock.issuer, target, headers);
        assert.equal(response.status, 200);
        const discovery = JSON.parse(response.body) as Record<string, unknown>;
        assert.equal(discovery.issuer, lock.issuer);
        const urls = urlsIn(discovery);
        assert.ok(urls.length >= 5, `discovery lists its endpoints: ${JSON.stringify(urls)}`);
        for (const [member, url] of urls)
          assert.ok(url.startsWith(`${lock.issuer}/`) || url === lock.issuer, `${member}: ${url}`);
      });

    it('posts the logout form to the issuer, not to the forged host', async () => {
      const response = await rawGet(lock.issuer, '/session/end', { host: 'evil.example' });
      assert.equal(response.status, 200);
      const action = /<form[^>]*action="([^"]+)"/.exec(response.body)?.[1];
      assert.equal(action, `${lock.issuer}/session/end/confirm`);
    });
  });
