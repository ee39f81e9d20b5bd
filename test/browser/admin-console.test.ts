import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createRemoteJWKSet, exportJWK, generateKeyPair, jwtVerify } from 'jose';
import type { Page } from 'playwright-core';
import { ADMIN_PASSWORD } from '../admin/admin-api.ts';
import { launchBrowser } from '../helpers/browser.ts';
import { type ClientCallback, startClientCallback } from '../helpers/client-callback.ts';
import { openLdap } from '../helpers/directories.ts';
import { type RunningLock, startLock } from '../helpers/lock.ts';
import { API } from '../helpers/login-fixtures.ts';
import { redeem, startAuthorization } from '../helpers/relying-party.ts';
import { nextCode, rememberEnrolment, totpCode } from '../helpers/second-factor.ts';

const SECRET = 'console-test-secret-0123456789';
const VIEWER_PASSWORD = 'viewer-Passw0rd-long-enough!';
const SCREENSHOTS = join(process.env.TMPDIR ?? tmpdir(), 'lock-console-screenshots');

// An admin configures an LDAP directory in the console, in a real browser; then a directory user
// signs in to an app and gets the role the admin mapped their group to.
describe('admin console in headless Chromium', () => {
  const directory = openLdap();
  let lock: RunningLock;
  let app: ClientCallback;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;

  before(async () => {
    await mkdir(SCREENSHOTS, { recursive: true });
    console.log(`admin console screenshots: ${SCREENSHOTS}`);
    app = await startClientCallback();
    lock = await startLock({
      env: { LOCK_BOOTSTRAP_ADMIN_PASSWORD: ADMIN_PASSWORD },
      config: `
roles: [{ name: db_writer }, { name: db_reader, description: Read-only access }]
resources: [{ id: ${API}, scopes: [read], roles: [db_writer, db_reader], roleClaim: role, defaultRole: web_anon }]
clients:
  - { clientId: web-app, clientSecret: ${SECRET}, name: Web App, firstParty: true, redirectUris: ["${app.url}"], resources: [${API}] }
connectors:
  - { id: local, type: local, name: Lock account }
users:
  - { username: viewer, email: viewer@example.com, password: "${VIEWER_PASSWORD}" }
`,
    });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await lock?.close();
    await lock?.database.drop();
    await directory.close();
    app?.close();
  });

  const signInThroughLock = async (page: Page, username: string, password: string) => {
    await page.goto(`${lock.issuer}/admin`);
    await page.getByLabel('Username').fill(username);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.waitForURL((url) => url.pathname === '/admin' || url.pathname.endsWith('/totp'));
    // lock_admin must use a second factor (LOCK_MFA_REQUIRED_ROLES): the admin enrols on first sign-in.
    if (await page.getByRole('heading', { name: 'Set up two-step sign-in' }).isVisible()) {
      const secret = ((await page.locator('#totp-secret').textContent()) ?? '').replace(/\s/g, '');
      await page.getByLabel('Enter the 6-digit code the app shows').fill(totpCode(secret));
      await page.getByRole('button', { name: 'Turn on two-step sign-in' }).click();
      await page.getByRole('heading', { name: 'Save your recovery codes' }).waitFor();
      const codes = await page.locator('ol.recovery-codes code').allTextContents();
      rememberEnrolment(lock.issuer, username, secret, codes);
      await page.getByRole('button', { name: /continue/i }).click();
    } else if (await page.getByRole('heading', { name: 'Enter your code' }).isVisible()) {
      await page.getByLabel(/Authentication code/).fill(nextCode(lock.issuer, username));
      await page.getByRole('button', { name: 'Verify' }).click();
    }
    await page
      .waitForURL((url) => url.pathname === '/admin')
      .catch(async (error) => {
        throw new Error(`${error.message}\nat ${page.url()}: ${await page.locator('body').textContent()}`);
      });
  };

  const shoot = (page: Page, name: string) =>
    page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });

  it('serves the console page with a strict CSP and its assets', async () => {
    const response = await fetch(`${lock.issuer}/admin`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('cache-control'), 'no-store');
    assert.match(
      response.headers.get('content-security-policy') ?? '',
      /script-src 'self'; style-src 'self'/,
    );
    const script = await fetch(`${lock.issuer}/assets/admin.js`);
    assert.match(script.headers.get('content-type') ?? '', /^text\/javascript/);
    const css = await fetch(`${lock.issuer}/assets/admin.css`);
    assert.match(css.headers.get('content-type') ?? '', /^text\/css/);
  });

  it('an admin creates and tests an LDAP connector and maps a directory group to a role', async () => {
    const context = await browser.browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    // Not "Failed to load resource": the 422 this test provokes, and the browser's /favicon.ico.
    page.on('console', (message) => {
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource'))
        errors.push(message.text());
    });
    await signInThroughLock(page, 'admin', ADMIN_PASSWORD);
    await page.getByRole('heading', { name: 'Connectors' }).waitFor();
    assert.match((await page.locator('#who').textContent()) ?? '', /Signed in as admin/);

    const config = directory.connectorConfig();
    await page.getByRole('button', { name: 'New LDAP connector' }).click();
    await page.getByRole('heading', { name: 'New LDAP connector' }).waitFor();
    await page.getByLabel('ID', { exact: true }).fill('corp-ldap');
    await page.getByLabel('Display name').fill('Corporate directory');
    await page.getByLabel('Server URL').fill(String(config.url));
    await page.getByLabel('Use StartTLS').check();
    await page.getByLabel('CA certificate file (on the Lock server)').fill(String(config.caFile));
    await page.getByLabel('Bind DN').fill(String(config.bindDN));
    await page.getByLabel('Bind password').fill(String(config.bindPassword));
    await page.getByRole('group', { name: 'User search' }).getByLabel('Base DN').fill(directory.usersDN);
    await page.getByLabel('Filter').fill('(objectClass=inetOrgPerson)');
    await page.getByLabel('Mode').selectOption('nested');
    const groupSearch = config.groupSearch as { baseDN: string };
    await page.getByRole('group', { name: 'Group search' }).getByLabel('Base DN').fill(groupSearch.baseDN);
    await page.getByLabel('Look up this user (optional)').fill(directory.alice.username);

    await page.getByRole('button', { name: 'Test connection' }).click();
    const report = page.locator('#test-report');
    await report.waitFor();
    assert.match(
      (await report.textContent()) ?? '',
      /Connection test passed/,
      (await report.textContent()) ?? '',
    );
    const steps = await report
      .locator('li')
      .evaluateAll((items) =>
        items.map((item) => ({ step: item.getAttribute('data-step'), ok: item.getAttribute('data-ok') })),
      );
    assert.deepEqual(
      steps.map((s) => s.step),
      ['connect', 'tls', 'service bind', 'user search', 'groups'],
    );
    assert.ok(
      steps.every((s) => s.ok === 'true'),
      JSON.stringify(steps),
    );
    await shoot(page, 'connector-test');

    await page.getByRole('button', { name: 'Create connector' }).click();
    await page.getByRole('heading', { name: 'Connectors' }).waitFor();
    await page.getByText('Connector corp-ldap saved.').waitFor();
    assert.ok(await page.getByRole('cell', { name: 'corp-ldap', exact: true }).isVisible());
    await shoot(page, 'connectors');

    await page.getByRole('link', { name: 'Roles & mappings' }).click();
    await page.getByRole('heading', { name: 'Roles & mappings' }).waitFor();
    const mapping = page.getByRole('form', { name: 'New role mapping' });
    await mapping.getByLabel('Connector').selectOption('corp-ldap');
    await mapping.getByLabel('Upstream group').fill('developers');
    await mapping.getByRole('checkbox', { name: 'db_writer', exact: true }).check();
    await mapping.getByRole('button', { name: 'Create mapping' }).click();
    await page.getByText('Group developers now maps to db_writer.').waitFor();
    await shoot(page, 'roles');

    // A validation error shows the field path next to the form (roles are picked: none unknown).
    await mapping.getByRole('checkbox', { name: 'db_writer', exact: true }).check();
    await mapping.getByRole('button', { name: 'Create mapping' }).click();
    await page.getByRole('alert').waitFor();
    assert.match((await page.getByRole('alert').textContent()) ?? '', /group/);

    // An API whose tokens are opaque references (introspected by its gateway).
    await page.getByRole('link', { name: 'APIs' }).click();
    await page.getByRole('heading', { name: 'APIs' }).waitFor();
    await page.getByLabel('Identifier (audience URL)').fill('https://partner-api.example.com');
    await page
      .getByRole('group', { name: 'Roles in its tokens' })
      .getByRole('checkbox', { name: /db_reader/ })
      .check();
    await page.getByLabel('Access token format').selectOption('opaque');
    await page.getByLabel('Require DPoP (sender-constrained tokens)').check();
    await page.getByRole('button', { name: 'Create API' }).click();
    await page.getByText('API https://partner-api.example.com created.').waitFor();
    const partnerRow = page.getByRole('row', { name: /partner-api\.example\.com/ });
    assert.equal(await partnerRow.getByRole('cell', { name: 'opaque', exact: true }).count(), 1);
    const stored = await lock.database.pool.query('SELECT require_dpop FROM resources WHERE id = $1', [
      'https://partner-api.example.com',
    ]);
    assert.equal(stored.rows[0]?.require_dpop, true, 'the DPoP box reaches the stored resource');

    await page.getByRole('link', { name: 'Clients' }).click();
    await page.getByRole('heading', { name: 'Clients' }).waitFor();
    /** Grant types, roles and APIs are picked, never typed. */
    const pickServiceClient = async () => {
      const grants = page.getByRole('group', { name: 'Grant types' });
      await grants.getByRole('checkbox', { name: /\(authorization_code\)/ }).uncheck();
      await grants.getByRole('checkbox', { name: /\(refresh_token\)/ }).uncheck();
      await grants.getByRole('checkbox', { name: /\(client_credentials\)/ }).check();
      await page
        .getByRole('group', { name: 'APIs it gets tokens for' })
        .getByRole('checkbox', { name: API })
        .check();
    };
    await page.getByLabel('Client ID').fill('reporting');
    await page.getByLabel('Require pushed authorization requests (PAR)').check();
    await page.getByLabel('ID token signing algorithm').selectOption('EdDSA');
    await pickServiceClient();
    await page
      .getByRole('group', { name: 'Roles (when it signs in as itself)' })
      .getByRole('checkbox', { name: /db_reader/ })
      .check();
    await page.getByRole('button', { name: 'Create client' }).click();
    const secret = page
      .getByRole('dialog', { name: 'Secret of client reporting' })
      .locator('#one-time-secret');
    await secret.waitFor().catch(async (error) => {
      throw new Error(`${error.message}\n${await page.locator('main').textContent()}`);
    });
    assert.ok(((await secret.textContent()) ?? '').length >= 32);
    await page.getByRole('dialog').getByRole('button', { name: 'Done' }).click();
    await page.getByRole('heading', { name: 'Client reporting' }).waitFor();
    const reporting = await lock.database.pool.query(
      'SELECT require_pushed_authorization_requests, id_token_signing_alg FROM clients WHERE client_id = $1',
      ['reporting'],
    );
    assert.equal(reporting.rows[0]?.require_pushed_authorization_requests, true);
    assert.equal(reporting.rows[0]?.id_token_signing_alg, 'EdDSA', 'the select reaches the stored client');
    await shoot(page, 'clients');

    // A key-based client (private_key_jwt): a private key in the form is refused, the public key
    // registers it, and it has no secret to show or rotate.
    const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
    await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Clients' }).click();
    await page.getByRole('heading', { name: 'Clients' }).waitFor();
    await page.getByLabel('Client ID').fill('keyed-reporting');
    await pickServiceClient();
    await page.getByLabel('Client authentication').selectOption('private_key_jwt');
    await page
      .getByLabel('Public keys (JWK set)')
      .fill(JSON.stringify({ keys: [await exportJWK(privateKey)] }));
    await page.getByRole('button', { name: 'Create client' }).click();
    await page
      .getByText(/holds private key material/i)
      .first()
      .waitFor();
    await page
      .getByLabel('Public keys (JWK set)')
      .fill(JSON.stringify({ keys: [await exportJWK(publicKey)] }));
    await page.getByRole('button', { name: 'Create client' }).click();
    await page.getByText('Client keyed-reporting created.').waitFor();
    await page.getByRole('heading', { name: 'Client keyed-reporting' }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Regenerate secret' }).count(), 0);
    assert.equal(await page.getByRole('dialog').count(), 0, 'a key-based client has no secret to show');

    await page.getByRole('link', { name: 'Users & groups' }).click();
    await page.getByRole('heading', { name: 'Users & groups' }).waitFor();
    await page.getByRole('cell', { name: 'viewer@example.com' }).waitFor();
    await shoot(page, 'users');

    await page.getByRole('link', { name: 'Keys' }).click();
    await page.getByRole('heading', { name: 'Signing keys' }).waitFor();
    await shoot(page, 'keys');

    await page.getByRole('link', { name: 'Audit log' }).click();
    await page.getByRole('heading', { name: 'Audit log' }).waitFor();
    await page.getByLabel('Event type').fill('admin.*');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.getByRole('cell', { name: 'admin.role_mapping.created' }).waitFor();
    await page.getByRole('cell', { name: 'admin.connector.created' }).waitFor();
    await shoot(page, 'audit');

    assert.deepEqual(errors, []);
    await context.close();
  });

  it('a directory user signs in to a client and gets the role mapped in the console', async () => {
    const request = await startAuthorization(
      lock.issuer,
      { id: 'web-app', secret: SECRET },
      { redirect_uri: app.url, scope: 'openid profile groups read', resource: API },
    );
    const { url } = request;
    const context = await browser.browser.newContext();
    const page = await context.newPage();
    await page.goto(url.toString());
    await page.getByLabel('Username').fill(directory.alice.username);
    await page.getByLabel('Password').fill(directory.alice.password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.waitForURL((landed) => landed.toString().startsWith(app.url));

    const landed = app.lastCallback()!;
    const tokens = await redeem(request, landed);
    const access = await jwtVerify(tokens.access_token, createRemoteJWKSet(new URL(`${lock.issuer}/jwks`)), {
      issuer: lock.issuer,
      audience: API,
    });
    assert.deepEqual(access.payload.roles, ['db_writer']);
    assert.equal(access.payload.role, 'db_writer');
    assert.equal(access.payload.idp, 'corp-ldap');
    await context.close();
  });

  it('a user without lock_admin is told they need the role', async () => {
    const context = await browser.browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await signInThroughLock(page, 'viewer', VIEWER_PASSWORD);
    await page.getByRole('heading', { name: 'You need the lock_admin role' }).waitFor();
    assert.equal(await page.locator('#nav').isVisible(), false);
    await shoot(page, 'no-role');

    await page.getByRole('button', { name: 'Sign out' }).first().click();
    await page.waitForLoadState();
    // Lock's end-session page asks to confirm when it cannot tell the request came from this session.
    const confirm = page.getByRole('button', { name: /sign out|yes/i });
    if (
      await page
        .waitForURL((u) => u.pathname === '/admin', { timeout: 3000 })
        .then(
          () => false,
          () => true,
        )
    )
      await confirm.first().click();
    await page.getByRole('heading', { name: 'You are signed out' }).waitFor();
    await context.close();
  });
});
