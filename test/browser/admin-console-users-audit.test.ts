// The console's user and audit pages and its building blocks, in headless Chromium at desktop
// (1280×800) and phone (390×844) sizes: the self-disable guard, a form with errors (focus on the
// first, list items marked), the one-time secret dialog (Copy), editing a user, lockout shown and
// lifted, passkeys shown and removed, an application's access removed, the audit filters, CSV export and chart, no horizontal overflow on a phone, and the
// "Couldn't load — Retry" state while the database is down.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BrowserContext, Page } from 'playwright-core';
import { PasskeyRegistration } from '../../src/login/passkey-registration.ts';
import { relyingPartyOf } from '../../src/login/webauthn.ts';
import { BruteForceGuard } from '../../src/security/brute-force.ts';
import {
  type EmbeddedDatabase,
  findFreePort,
  startEmbeddedPostgres,
} from '../../src/store/embedded-postgres.ts';
import { createPool } from '../../src/store/pool.ts';
import { findUserByUsername } from '../../src/store/users.ts';
import { ADMIN_PASSWORD, adminApi, consoleToken } from '../admin/admin-api.ts';
import { refreshes, signInForOffline } from '../helpers/app-access.ts';
import { launchBrowser, signInToConsole } from '../helpers/browser.ts';
import { type RunningLock, startLock } from '../helpers/lock.ts';
import { BOB_PASSWORD, loginConfig } from '../helpers/login-fixtures.ts';
import { postOnce } from '../helpers/sign-in-attempts.ts';
import { SoftwareAuthenticator } from '../helpers/webauthn.ts';

const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const SCREENSHOTS = process.env.LOCK_SCREENSHOTS_DIR;

/** Page errors and console errors (not the failed requests a test provokes on purpose). */
function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource'))
      errors.push(message.text());
  });
  return errors;
}

const scrollWidth = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth);

describe('admin console: users, audit log and building blocks in Chromium', () => {
  let lock: RunningLock;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let context: BrowserContext;
  let page: Page;
  let errors: string[];

  before(async () => {
    lock = await startLock({ config: loginConfig, env: { LOCK_BOOTSTRAP_ADMIN_PASSWORD: ADMIN_PASSWORD } });
    browser = await launchBrowser();
    context = await browser.browser.newContext({ viewport: DESKTOP });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: lock.issuer });
    page = await context.newPage();
    errors = watchErrors(page);
    await signInToConsole(page, lock.issuer, ADMIN_PASSWORD);
    // Failed sign-ins for the audit log and its chart.
    assert.equal((await postOnce(lock.issuer, 'alice', 'not her password')).outcome, 'refused');
    assert.equal((await postOnce(lock.issuer, 'mallory', 'a guess')).outcome, 'refused');
  });
  after(async () => {
    await context?.close();
    await browser?.close();
    await lock?.close();
    await lock?.database.drop();
  });

  const openUsers = async () => {
    await page.goto(`${lock.issuer}/admin#/users`);
    await page.getByRole('heading', { name: 'Users & groups' }).waitFor();
    await page.getByRole('table', { name: 'Local users' }).waitFor();
  };

  it('the signed-in admin cannot disable themselves: the button is disabled with the reason, the API refuses', async () => {
    await openUsers();
    const own = page.getByRole('button', { name: 'Disable admin' });
    assert.equal(await own.isDisabled(), true);
    const reason = await own.evaluate(
      (button) => document.getElementById(button.getAttribute('aria-describedby') ?? '')?.textContent,
    );
    assert.match(reason ?? '', /This is your account/);
    assert.ok(
      await page
        .getByText(/This is your account/)
        .first()
        .isVisible(),
      'the reason is on screen',
    );

    // The detail page says the same, and offers no way to delete.
    await page.getByRole('link', { name: 'admin', exact: true }).click();
    await page.getByRole('heading', { name: /^admin/ }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Disable admin' }).isDisabled(), true);
    assert.equal(await page.getByRole('button', { name: 'Delete admin' }).isDisabled(), true);
    assert.match((await page.locator('dl.facts').textContent()) ?? '', /Second factor\s*TOTP/);

    const api = adminApi(lock.issuer, await consoleToken(lock.issuer, 'admin', ADMIN_PASSWORD));
    const id = decodeURIComponent(new URL(page.url()).hash.split('/')[2] ?? '');
    const refused = await api('POST', `/users/${id}/disable`);
    assert.equal(refused.status, 409);
  });

  it('disabling another user asks first, naming what happens', async () => {
    await openUsers();
    await page.getByRole('button', { name: 'Disable bob' }).click();
    const dialog = page.getByRole('dialog', { name: 'Disable bob?' });
    assert.match((await dialog.textContent()) ?? '', /signed out of every application/);
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    assert.equal(await page.getByRole('dialog').count(), 0);
    await page.getByRole('button', { name: 'Disable bob' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Disable bob' }).click();
    await page.getByRole('status').filter({ hasText: 'bob disabled.' }).waitFor();
    await page.getByRole('button', { name: 'Enable bob' }).click();
    await page.getByRole('status').filter({ hasText: 'bob enabled.' }).waitFor();
  });

  it('an invalid form marks its fields beside them and moves focus to the first; list items are marked', async () => {
    await openUsers();
    const form = page.getByRole('form', { name: 'New user' });
    await form.getByRole('button', { name: 'Create user' }).click();
    const username = form.getByLabel('Username');
    await page.waitForFunction(() => document.activeElement?.getAttribute('name') === 'username');
    assert.equal(await username.getAttribute('aria-invalid'), 'true');
    const describedBy = (await username.getAttribute('aria-describedby')) ?? '';
    const message = await page.evaluate(
      (ids) => ids.split(' ').map((id) => document.getElementById(id)?.textContent ?? ''),
      describedBy,
    );
    assert.ok(message.includes('Required'), `the message beside the field, in plain words: ${message}`);
    const summary = form.getByRole('alert');
    assert.match((await summary.textContent()) ?? '', /Username: Required/);
    assert.doesNotMatch((await summary.textContent()) ?? '', /Too small|expected string/);
    // The summary sits above the form's buttons, where the person is, not at the top of the page.
    const [alertBox, buttonBox] = await Promise.all([
      summary.boundingBox(),
      form.getByRole('button', { name: 'Create user' }).boundingBox(),
    ]);
    assert.ok(alertBox && buttonBox && alertBox.y < buttonBox.y && buttonBox.y - alertBox.y < 250);

    // The building block for list fields: a problem at redirectUris[1] marks the second item.
    const marked = await page.evaluate(async () => {
      const url = '/admin/dom.js';
      const dom = await import(url);
      const form = dom.h(
        'form',
        { id: 'probe' },
        dom.field('Redirect URIs', 'redirectUris', {
          type: 'list',
          path: 'redirectUris',
          value: ['https://ok.example/cb', 'not a url', 'https://also.example/cb'],
        }),
        dom.h('div', { class: 'buttons' }, dom.h('button', { type: 'submit' }, 'Save')),
      );
      document.getElementById('main')?.append(form);
      dom.formList(form, 'redirectUris');
      dom.showError(form, form, {
        status: 422,
        data: {
          error: 'invalid input',
          problems: [{ path: 'redirectUris[1]', message: 'must be a valid url' }],
        },
      });
      const inputs = [...form.querySelectorAll('input')];
      const focused = document.activeElement;
      return {
        invalid: inputs.map((input) => input.getAttribute('aria-invalid')),
        focusedIndex: inputs.indexOf(focused as HTMLInputElement),
        label: inputs[1]?.getAttribute('aria-label'),
        message: document.getElementById(inputs[1]?.getAttribute('aria-describedby')?.split(' ').at(-1) ?? '')
          ?.textContent,
      };
    });
    assert.deepEqual(marked.invalid, [null, 'true', null]);
    assert.equal(marked.focusedIndex, 1);
    assert.equal(marked.label, 'Redirect URIs, item 2');
    assert.match(marked.message ?? '', /^Must be a full URL/);
  });

  it('an admin creates a user with picked groups and roles, then edits the user', async () => {
    await openUsers();
    const form = page.getByRole('form', { name: 'New user' });
    await form.getByLabel('Username').fill('frank');
    await form.getByLabel('Full name').fill('Frank');
    await form.getByRole('group', { name: 'Groups' }).getByLabel('editors').check();
    await form.getByRole('button', { name: 'Create user' }).click();
    await page.getByRole('heading', { name: /^frank/ }).waitFor();
    await page.getByText('User frank created.').waitFor();
    const profile = page.getByRole('form', { name: 'Profile' });
    assert.equal(
      await profile.getByRole('group', { name: 'Groups' }).getByLabel('editors').isChecked(),
      true,
    );
    await profile.getByLabel('Full name').fill('Frank Miller');
    await profile.getByLabel('Email').fill('frank@example.com');
    await profile.getByRole('group', { name: 'Roles' }).getByLabel('app_readonly').check();
    await profile.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('status').filter({ hasText: 'frank saved.' }).waitFor();
    const stored = await lock.database.pool.query(
      `SELECT u.name, u.email, array(SELECT role_name FROM user_roles r WHERE r.user_id = u.id) AS roles
       FROM users u WHERE username = 'frank'`,
    );
    assert.deepEqual(stored.rows[0], {
      name: 'Frank Miller',
      email: 'frank@example.com',
      roles: ['app_readonly'],
    });
    assert.match((await page.locator('dl.facts').textContent()) ?? '', /app_readonly/);
  });

  it('a locked-out user shows it in the list and on their page; Unlock lifts it', async () => {
    const guard = new BruteForceGuard(lock.database.pool);
    for (let attempt = 0; attempt < 31; attempt++)
      await guard.reserve({ username: 'frank', address: `203.0.113.${attempt}` });
    await openUsers();
    const row = page.getByRole('row').filter({ hasText: 'frank' });
    assert.match((await row.textContent()) ?? '', /locked out until/);
    assert.doesNotMatch((await row.getByRole('cell').nth(5).textContent()) ?? '', /active/);
    await row.getByRole('link', { name: 'frank' }).click();
    await page.getByRole('button', { name: 'Unlock frank' }).click();
    await page.getByRole('status').filter({ hasText: 'frank can sign in again.' }).waitFor();
    assert.match((await page.locator('dl.facts').textContent()) ?? '', /Status\s*active/);
  });

  it('a user’s passkeys show in the list and on their page; removing one, then all, asks first and updates the page', async () => {
    const registration = new PasskeyRegistration({
      pool: lock.database.pool,
      rp: relyingPartyOf(lock.issuer),
      aaguidAllowlist: [],
      now: () => new Date(),
    });
    const bob = (await findUserByUsername(lock.database.pool, 'bob'))!;
    const owner = {
      userId: bob.id,
      username: 'bob',
      sub: 'bob',
      session: 's-bob',
      ip: '127.0.0.1',
      userAgent: 'test',
      requestId: 't',
    };
    for (const [name, synced] of [
      ['Bob’s laptop', false],
      ['Bob’s phone', true],
    ] as const) {
      const response = new SoftwareAuthenticator(lock.issuer, { synced }).register(
        await registration.options(owner),
      );
      assert.equal((await registration.register(owner, { name, response })).status, 'added');
    }
    await openUsers();
    const row = page.getByRole('row').filter({ hasText: 'bob' });
    assert.match((await row.textContent()) ?? '', /2 passkeys/);
    await row.getByRole('link', { name: 'bob' }).click();
    const list = page.getByRole('region', { name: 'Passkeys' });
    await list.getByRole('row').filter({ hasText: 'Bob’s laptop' }).waitFor();
    assert.match(
      (await list.textContent()) ?? '',
      /Bob’s laptop\s*Passkey on one device.*Bob’s phone\s*Synced passkey/s,
    );
    assert.match((await page.locator('dl.facts').textContent()) ?? '', /Second factor\s*2 passkeys/);

    await page.setViewportSize(PHONE);
    assert.ok((await scrollWidth(page)) <= PHONE.width, 'the passkey table stacks on a phone');
    await page.setViewportSize(DESKTOP);

    await list.getByRole('button', { name: 'Remove passkey Bob’s laptop' }).click();
    const dialog = page.getByRole('dialog', { name: 'Remove the passkey “Bob’s laptop” of bob?' });
    assert.match((await dialog.textContent()) ?? '', /stops signing bob in at once/);
    await dialog.getByRole('button', { name: 'Remove passkey Bob’s laptop' }).click();
    await page.getByRole('status').filter({ hasText: 'Passkey “Bob’s laptop” of bob removed.' }).waitFor();
    assert.equal(await list.getByRole('row').filter({ hasText: 'Bob’s laptop' }).count(), 0);
    assert.match((await page.locator('dl.facts').textContent()) ?? '', /Second factor\s*1 passkey(?!s)/);

    await page.getByRole('button', { name: 'Remove all passkeys of bob' }).click();
    const all = page.getByRole('dialog', { name: 'Remove all passkeys of bob?' });
    assert.match((await all.textContent()) ?? '', /sign in with their password/);
    await all.getByRole('button', { name: 'Remove all passkeys of bob' }).click();
    await page.getByRole('status').filter({ hasText: 'All passkeys of bob removed.' }).waitFor();
    await list.getByText('No passkeys').waitFor();
    assert.equal(await page.getByRole('button', { name: 'Remove all passkeys of bob' }).count(), 0);
    const api = adminApi(lock.issuer, await consoleToken(lock.issuer, 'admin', ADMIN_PASSWORD));
    assert.deepEqual((await api('GET', `/users/${bob.id}/passkeys`)).body.items, []);
    assert.equal((await api('GET', '/audit-events?type=admin.user.passkey*')).body.items.length, 2);
  });

  it('the applications with access to a user show on their page; removing one asks first and ends its tokens', async () => {
    const partner = await signInForOffline(lock.issuer, 'partner-app', 'bob', BOB_PASSWORD);
    await signInForOffline(lock.issuer, 'web-app', 'bob', BOB_PASSWORD);
    await openUsers();
    await page.getByRole('row').filter({ hasText: 'bob' }).getByRole('link', { name: 'bob' }).click();
    const list = page.getByRole('region', { name: 'Apps with access' });
    await list.getByRole('row').filter({ hasText: 'partner-app' }).waitFor();
    assert.match(
      (await list.getByRole('row').filter({ hasText: 'partner-app' }).textContent()) ?? '',
      /openid profile offline_access.*https:\/\/db-api\.example\.com \(read\)/s,
    );
    await page.setViewportSize(PHONE);
    assert.ok((await scrollWidth(page)) <= PHONE.width, 'the table stacks on a phone');
    await page.setViewportSize(DESKTOP);

    await list.getByRole('button', { name: 'Remove access partner-app' }).click();
    const dialog = page.getByRole('dialog', { name: 'Remove the access of partner-app to bob’s account?' });
    assert.match((await dialog.textContent()) ?? '', /can no longer refresh its tokens/);
    await dialog.getByRole('button', { name: 'Remove access of partner-app' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: 'The access of partner-app to bob’s account was removed.' })
      .waitFor();
    assert.equal(await list.getByRole('row').filter({ hasText: 'partner-app' }).count(), 0);
    assert.equal(await list.getByRole('row').filter({ hasText: 'web-app' }).count(), 1);
    assert.equal(await refreshes(partner), 'invalid_grant');
  });

  it('a typed password can be shown and hidden again: the create form and the set-password dialog', async () => {
    await openUsers();
    const form = page.getByRole('form', { name: 'New user' });
    const typed = form.getByLabel('Password', { exact: true });
    await typed.fill('typed by the admin');
    const show = form.getByRole('button', { name: 'Show', pressed: false });
    assert.equal(await show.getAttribute('aria-controls'), await typed.getAttribute('id'));
    await show.click();
    assert.equal(await typed.getAttribute('type'), 'text');
    await form.getByRole('button', { name: 'Hide', pressed: true }).click();
    assert.equal(await typed.getAttribute('type'), 'password');
    await typed.fill('');

    await page.getByRole('row').filter({ hasText: 'alice' }).getByRole('link', { name: 'alice' }).click();
    await page.getByRole('button', { name: 'Set password alice' }).click();
    const ask = page.getByRole('dialog', { name: 'Set a new password for alice' });
    const field = ask.getByLabel('New password');
    await field.fill('another typed one');
    await field.press('Tab');
    await page.keyboard.press('Space');
    assert.equal(await field.getAttribute('type'), 'text', 'Show, reached by keyboard');
    await ask.getByRole('button', { name: 'Cancel' }).click();
  });

  it('a generated password is shown once in a dialog; Copy puts it on the clipboard, and it signs in', async () => {
    await openUsers();
    await page.getByRole('row').filter({ hasText: 'alice' }).getByRole('link', { name: 'alice' }).click();
    await page.getByRole('button', { name: 'Set password alice' }).click();
    const ask = page.getByRole('dialog', { name: 'Set a new password for alice' });
    await ask.getByRole('button', { name: 'Set password' }).click();
    const shown = page.getByRole('dialog', { name: 'New password of alice' });
    await shown.waitFor();
    const password = ((await shown.locator('#one-time-secret').textContent()) ?? '').trim();
    assert.equal(password.length, 20);
    await shown.getByRole('button', { name: 'Copy' }).click();
    await shown.getByText('Copied to the clipboard.').waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), password);
    await shown.getByRole('button', { name: 'Done' }).click();
    await page.getByRole('status').filter({ hasText: 'New password of alice set.' }).waitFor();
    assert.equal(await page.getByText(password).count(), 0, 'the password is not on the page any more');
    assert.equal((await postOnce(lock.issuer, 'alice', password)).outcome, 'signed in');
  });

  it('the audit log: names, filters, empty result, CSV export and the sign-in chart', async () => {
    await page.goto(`${lock.issuer}/admin#/audit`);
    await page.getByRole('heading', { name: 'Audit log' }).waitFor();
    await page.getByRole('table', { name: 'Audit events' }).waitFor();
    // The chart: one bar group per hour with events, as the API counts them.
    const chart = page.locator('figure.chart');
    assert.match((await chart.locator('figcaption').textContent()) ?? '', /Sign-ins and failures per hour/);
    const bars = await chart.locator('svg g.bar').count();
    assert.ok(bars >= 1, 'bars for the hours that had sign-ins');
    assert.equal(await chart.locator('svg[role="img"]').count(), 1);
    assert.ok((await chart.locator('details table tbody tr').count()) === bars, 'a table row per bar');

    if (SCREENSHOTS)
      await page.screenshot({ path: join(SCREENSHOTS, 'audit-log-desktop.png'), fullPage: true });

    // Names instead of subs, the address column.
    const adminRow = page.getByRole('row').filter({ hasText: 'admin.user.password_set' }).first();
    assert.match((await adminRow.textContent()) ?? '', /admin/);
    assert.ok((await adminRow.getByRole('cell').nth(5).textContent())?.match(/127\.0\.0\.1|::1/));

    const filters = page.getByRole('search', { name: 'Filter events' });
    await filters.getByLabel('Outcome').selectOption('failure');
    await filters.getByRole('button', { name: 'Filter', exact: true }).click();
    await page.waitForURL(/outcome=failure/);
    await page.getByRole('table', { name: 'Audit events' }).waitFor();
    const outcomes = await page.locator('table.stacking td[data-label="Outcome"]').allTextContents();
    assert.ok(outcomes.length >= 2);
    assert.ok(outcomes.every((outcome) => outcome === 'failure'));
    const download = page.waitForEvent('download');
    await filters.getByRole('button', { name: 'Export CSV' }).click();
    const csv = await readFile((await (await download).path())!, 'utf8');
    const lines = csv.trimEnd().split('\r\n');
    assert.match(lines[0]!, /^time,type,outcome,actor/);
    assert.equal(lines.length - 1, outcomes.length, 'the export holds what the filter shows');
    assert.ok(lines.slice(1).every((line) => line.includes('"failure"')));

    await filters.getByLabel('Actor').fill('admin');
    await filters.getByLabel('Outcome').selectOption('');
    await filters.getByLabel('Event type').fill('admin.user.*');
    await filters.getByRole('button', { name: 'Filter', exact: true }).click();
    await page.waitForURL(/actor=admin/);
    await page.getByRole('cell', { name: 'admin.user.created' }).waitFor();
    const actors = await page.locator('table.stacking td[data-label="Actor"]').allTextContents();
    assert.ok(actors.every((actor) => actor === 'admin'));

    await filters.getByLabel('From').fill('2030-01-01T00:00');
    await filters.getByRole('button', { name: 'Filter', exact: true }).click();
    await page.getByText('No events match these filters.').waitFor();
  });

  it('a section still loading when the admin moves on never draws over the next one', async () => {
    // The connectors list answers slowly (held back in the browser, Lock itself untouched): the
    // admin opens Connectors, then Audit log before it arrives; its late answer must not be drawn.
    let heldBack = 0;
    await page.route('**/admin/api/v1/connectors?*', async (route) => {
      heldBack++;
      await sleep(1500);
      await route.continue();
    });
    try {
      await page.goto(`${lock.issuer}/admin#/connectors`);
      await page.getByRole('link', { name: 'Audit log' }).click();
      await page.getByRole('table', { name: 'Audit events' }).waitFor();
      await page.waitForResponse('**/admin/api/v1/connectors?*');
      await sleep(200);
      assert.ok(heldBack >= 1, 'the connectors list was asked for');
      assert.equal(await page.getByRole('table', { name: 'Audit events' }).count(), 1);
      assert.equal(await page.getByRole('heading', { name: 'Connectors' }).count(), 0);
      assert.match(await page.title(), /^Audit log/);
    } finally {
      await page.unroute('**/admin/api/v1/connectors?*');
    }
  });

  it('a search answered after a later one never replaces its results', async () => {
    await openUsers();
    const search = page.getByRole('searchbox', { name: 'Search users' });
    // The first search's answer is held back in the browser until after the second's has arrived.
    await page.route('**/admin/api/v1/users?*q=alice*', async (route) => {
      await sleep(1500);
      await route.continue();
    });
    try {
      await search.fill('alice');
      await search.press('Enter');
      await search.fill('bob');
      await search.press('Enter');
      const users = page.getByRole('table', { name: 'Local users' });
      await users.getByRole('link', { name: 'bob' }).waitFor();
      await page.waitForResponse('**/admin/api/v1/users?*q=alice*');
      await sleep(200);
      assert.equal(await users.getByRole('link', { name: 'bob' }).count(), 1);
      assert.equal(await users.getByRole('link', { name: 'alice' }).count(), 0);
    } finally {
      await page.unroute('**/admin/api/v1/users?*q=alice*');
    }
  });

  it('on a phone (390 px) the users and audit pages do not overflow sideways', async () => {
    const phone = await browser.browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true });
    const small = await phone.newPage();
    const smallErrors = watchErrors(small);
    await signInToConsole(small, lock.issuer, ADMIN_PASSWORD);
    await small.getByRole('heading', { name: 'Connectors' }).waitFor();
    await small.getByRole('link', { name: 'Users & groups' }).click();
    await small
      .getByRole('table', { name: 'Local users' })
      .waitFor()
      .catch(async (error) => {
        throw new Error(`${error.message}\n${small.url()}: ${await small.locator('main').textContent()}`);
      });
    assert.ok((await scrollWidth(small)) <= 390, `users: ${await scrollWidth(small)} px wide`);
    // Rows are stacked: each cell shows its label.
    const label = await small
      .locator('table.stacking td[data-label="Email"]')
      .first()
      .evaluate((cell) => getComputedStyle(cell, '::before').content);
    assert.equal(label, '"Email"');
    assert.equal(await small.getByRole('button', { name: 'Disable admin' }).isDisabled(), true);
    assert.ok(
      await small
        .getByText(/This is your account/)
        .first()
        .isVisible(),
    );
    await small.getByRole('link', { name: 'frank' }).click();
    await small.getByRole('heading', { name: /^frank/ }).waitFor();
    assert.ok((await scrollWidth(small)) <= 390, `user page: ${await scrollWidth(small)} px wide`);

    await small.getByRole('link', { name: 'Audit log' }).click();
    await small.getByRole('table', { name: 'Audit events' }).waitFor();
    assert.ok((await scrollWidth(small)) <= 390, `audit: ${await scrollWidth(small)} px wide`);
    assert.ok((await small.locator('figure.chart svg g.bar').count()) >= 1);
    // The phone screenshot shows one screen: the chart and the filters as a person first sees them.
    if (SCREENSHOTS) await small.screenshot({ path: join(SCREENSHOTS, 'audit-log-phone.png') });
    assert.deepEqual(smallErrors, []);
    await phone.close();
    assert.deepEqual(errors, []);
  });
});

// A PostgreSQL of this test's own, stopped under the running console.
describe('admin console while the database is down', () => {
  let dataDir: string;
  let port: number;
  let database: EmbeddedDatabase;
  let lock: RunningLock;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'lock-console-outage-pg-'));
    port = await findFreePort();
    database = await startEmbeddedPostgres({ dataDir, port });
    const pool = createPool({ url: database.url, max: 4 });
    lock = await startLock({
      config: loginConfig,
      env: { LOCK_BOOTSTRAP_ADMIN_PASSWORD: ADMIN_PASSWORD },
      database: { url: database.url, pool, drop: () => pool.end() },
    });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await lock?.close();
    await lock?.database.drop();
    await database?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('a section clicked while the database is down shows "Couldn’t load" (not the last table); Retry works once it is back', async () => {
    const context = await browser.browser.newContext({ viewport: DESKTOP });
    const page = await context.newPage();
    await signInToConsole(page, lock.issuer, ADMIN_PASSWORD);
    await page.goto(`${lock.issuer}/admin#/audit`);
    await page.getByRole('table', { name: 'Audit events' }).waitFor();

    await database.stop();
    await page.getByRole('link', { name: 'Users & groups' }).click();
    const failed = page.getByRole('alert').filter({ hasText: 'Couldn’t load' });
    await failed.waitFor();
    assert.equal(await page.getByRole('table').count(), 0, 'the previous page’s table is gone');
    assert.equal(await page.locator('figure.chart').count(), 0);

    database = await startEmbeddedPostgres({ dataDir, port });
    for (let attempt = 0; attempt < 40; attempt++) {
      if ((await fetch(`${lock.issuer}/readyz`)).status === 200) break;
      await sleep(250);
    }
    await failed.getByRole('button', { name: 'Retry' }).click();
    await page.getByRole('table', { name: 'Local users' }).waitFor();
    assert.equal(await page.getByText('Couldn’t load').count(), 0);
    await context.close();
  });
});
