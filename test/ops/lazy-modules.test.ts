import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { it } from 'node:test';
import { promisify } from 'node:util';

/**
 * The code of what most servers never or seldom use is loaded on first use, not at start: every
 * module loaded stays in the heap, is marked on every full garbage collection and raises the
 * memory the heap grows to under load (docs/performance.md, "Memory").
 */
const LOADED_ON_FIRST_USE = [
  '@simplewebauthn/server', // the first passkey ceremony
  'nodemailer', // the first mail
  'qrcode', // the first authenticator-app enrolment
  'samlify', // the first SAML connector
  'xml-crypto',
  'openid-client', // the first OpenID Connect or OAuth 2.0 connector
];

it('importing the server loads neither passkey, mail, QR code, SAML nor upstream-OIDC code', async () => {
  const { stdout } = await promisify(execFile)(process.execPath, [
    join(import.meta.dirname, '../fixtures/loaded-packages.ts'),
  ]);
  const loaded = JSON.parse(stdout) as string[];
  // The probe works: the packages the token path needs are seen.
  for (const needed of ['oidc-provider', 'koa', 'pg', 'jose']) assert.ok(loaded.includes(needed), needed);
  assert.deepEqual(
    LOADED_ON_FIRST_USE.filter((name) => loaded.includes(name)),
    [],
  );
});
