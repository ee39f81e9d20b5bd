// The admin console's browser code: the modules src/admin/console.ts serves (every .js under
// views/admin, nothing else), their import graph, and the generated types kept in step with the
// admin API's OpenAPI document.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { posix } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Koa from 'koa';
import { CONSOLE_TYPES_PATH, consoleTypes } from '../../scripts/console-types.ts';
import { adminConsole, CONSOLE_CSP } from '../../src/admin/console.ts';
import { VIEWS_DIR } from '../../src/interactions/views.ts';

const CONSOLE_DIR = `${VIEWS_DIR}admin/`;
const MODULES = readdirSync(CONSOLE_DIR, { recursive: true, encoding: 'utf8' })
  .filter((file) => file.endsWith('.js'))
  .map((file) => `/admin/${file.split(/[\\/]/).join('/')}`);

/** A GET with the path sent exactly as written (fetch() would resolve `..` first). */
function rawGet(base: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}/`, { path }, (response) => {
      let body = '';
      response.on('data', (chunk) => {
        body += chunk;
      });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('admin console modules', () => {
  let base = '';
  let server: ReturnType<Koa['listen']>;

  before(async () => {
    const app = new Koa();
    app.use(adminConsole());
    app.use((ctx) => {
      ctx.status = 404;
      ctx.body = 'next';
    });
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  test('the committed views/admin/openapi.d.ts is what scripts/console-types.ts makes of the API now', () => {
    assert.equal(
      readFileSync(CONSOLE_TYPES_PATH, 'utf8'),
      consoleTypes(),
      'out of date: run node scripts/console-types.ts',
    );
  });

  test('every module under views/admin is served as JavaScript, revalidated by its ETag', async () => {
    assert.ok(MODULES.includes('/admin/shell.js') && MODULES.includes('/admin/pages/connectors.js'));
    await Promise.all(
      MODULES.map(async (path) => {
        const response = await fetch(`${base}${path}`);
        assert.equal(response.status, 200, path);
        assert.equal(response.headers.get('content-type'), 'text/javascript; charset=utf-8', path);
        assert.equal(response.headers.get('cache-control'), 'no-cache', path);
        assert.equal(
          await response.text(),
          readFileSync(`${CONSOLE_DIR}${path.slice('/admin/'.length)}`, 'utf8'),
        );
        const etag = response.headers.get('etag')!;
        const again = await fetch(`${base}${path}`, { headers: { 'if-none-match': `W/${etag}` } });
        assert.equal(again.status, 304, path);
        assert.equal((await fetch(`${base}${path}`, { method: 'POST' })).status, 405, path);
      }),
    );
  });

  test('every import of every module (and of the entry /assets/admin.js) names a served module', () => {
    const entry = readFileSync(`${VIEWS_DIR}assets/admin.js`, 'utf8');
    const sources: Array<[string, string]> = [
      ['/assets/admin.js', entry],
      ...MODULES.map((path): [string, string] => [
        path,
        readFileSync(`${CONSOLE_DIR}${path.slice('/admin/'.length)}`, 'utf8'),
      ]),
    ];
    let imports = 0;
    for (const [path, source] of sources)
      for (const [, specifier] of source.matchAll(/^import .* from '([^']+)';$/gm)) {
        imports++;
        const target = posix.join(posix.dirname(path), specifier!);
        assert.ok(MODULES.includes(target), `${path} imports ${specifier}, which is not served`);
      }
    assert.ok(imports > MODULES.length);
  });

  test('nothing else is served: not the types, not the page under its file name, nothing outside the folder', async () => {
    for (const path of [
      '/admin/openapi.d.ts',
      '/admin/index.html',
      '/admin/../package.json',
      '/admin/%2e%2e/src/main.ts',
      '/admin/pages/../../../package.json',
      '/admin/shell.js/x',
      '/admin/nothing.js',
      '/admin/Shell.js',
    ]) {
      const response = await rawGet(base, path);
      assert.equal(response.status, 404, path);
      assert.equal(response.body, 'next', path);
    }
  });

  test('the console page loads its entry as a module under a CSP that allows only its own scripts', async () => {
    const response = await fetch(`${base}/admin`);
    assert.equal(response.headers.get('content-security-policy'), CONSOLE_CSP);
    assert.match(CONSOLE_CSP, /script-src 'self';/);
    assert.match(await response.text(), /<script type="module" src="\/assets\/admin\.js"><\/script>/);
  });
});
