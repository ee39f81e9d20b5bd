// Items of issue #23's "What was found" that no other console test walks, in a real browser: the
// user list past one page (paging and search), every row button named after its row for a screen
// reader, and the roles' priorities as distinct places 1…n.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { launchBrowser, signInToConsole } from '../helpers/browser.ts';
import { type RunningLock, startLock } from '../helpers/lock.ts';
import { totpCode } from '../helpers/second-factor.ts';

const ADMIN_PASSWORD = 'the bootstrap admin passphrase';

describe('admin console: paging, row button names, role places', () => {
  let lock: RunningLock;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let page: Page;

  before(async () => {
    lock = await startLock({
      env: { LOCK_BOOTSTRAP_ADMIN_PASSWORD: ADMIN_PASSWORD, LOCK_MFA_REQUIRED_ROLES: 'lock_admin,app_admin' },
      config: `
roles:
  - { name: app_admin }
  - { name: app_writer }
  - { name: app_reader }
  - { name: app_guest }
resources:
  - { id: https://walk-api.example.com, scopes: [read], roles: [app_reader, app_writer] }
clients:
  - { clientId: walk-app, clientSecret: walk-app-secret-walk-app-secret-0, name: Walk App, redirectUris: [https://walk.example.com/cb], resources: [https://walk-api.example.com] }
connectors:
  - { id: local, type: local, name: Lock account }
roleMappings:
  - { connector: local, group: staff, roles: [app_reader] }
users:
  - { username: enrolled, password: "enrolled has a passphrase", roles: [app_admin] }
  - { username: user001, groups: [staff] }
  - { username: user002, groups: [staff] }
  - { username: user003, groups: [staff] }
  - { username: user004, groups: [staff] }
  - { username: user005, groups: [staff] }
  - { username: user006, groups: [staff] }
  - { username: user007, groups: [staff] }
  - { username: user008, groups: [staff] }
  - { username: user009, groups: [staff] }
  - { username: user010, groups: [staff] }
  - { username: user011, groups: [staff] }
  - { username: user012, groups: [staff] }
  - { username: user013, groups: [staff] }
  - { username: user014, groups: [staff] }
  - { username: user015, groups: [staff] }
  - { username: user016, groups: [staff] }
  - { username: user017, groups: [staff] }
  - { username: user018, groups: [staff] }
  - { username: user019, groups: [staff] }
  - { username: user020, groups: [staff] }
  - { username: user021, groups: [staff] }
  - { username: user022, groups: [staff] }
  - { username: user023, groups: [staff] }
  - { username: user024, groups: [staff] }
  - { username: user025, groups: [staff] }
  - { username: user026, groups: [staff] }
  - { username: user027, groups: [staff] }
  - { username: user028, groups: [staff] }
  - { username: user029, groups: [staff] }
  - { username: user030, groups: [staff] }
  - { username: user031, groups: [staff] }
  - { username: user032, groups: [staff] }
  - { username: user033, groups: [staff] }
  - { username: user034, groups: [staff] }
  - { username: user035, groups: [staff] }
  - { username: user036, groups: [staff] }
  - { username: user037, groups: [staff] }
  - { username: user038, groups: [staff] }
  - { username: user039, groups: [staff] }
  - { username: user040, groups: [staff] }
  - { username: user041, groups: [staff] }
  - { username: user042, groups: [staff] }
  - { username: user043, groups: [staff] }
  - { username: user044, groups: [staff] }
  - { username: user045, groups: [staff] }
  - { username: user046, groups: [staff] }
  - { username: user047, groups: [staff] }
  - { username: user048, groups: [staff] }
  - { username: user049, groups: [staff] }
  - { username: user050, groups: [staff] }
  - { username: user051, groups: [staff] }
  - { username: user052, groups: [staff] }
  - { username: user053, groups: [staff] }
  - { username: user054, groups: [staff] }
  - { username: user055, groups: [staff] }
  - { username: user056, groups: [staff] }
  - { username: user057, groups: [staff] }
  - { username: user058, groups: [staff] }
  - { username: user059, groups: [staff] }
  - { username: user060, groups: [staff] }
  - { username: user061, groups: [staff] }
  - { username: user062, groups: [staff] }
  - { username: user063, groups: [staff] }
  - { username: user064, groups: [staff] }
  - { username: user065, groups: [staff] }
  - { username: user066, groups: [staff] }
  - { username: user067, groups: [staff] }
  - { username: user068, groups: [staff] }
  - { username: user069, groups: [staff] }
  - { username: user070, groups: [staff] }
  - { username: user071, groups: [staff] }
  - { username: user072, groups: [staff] }
  - { username: user073, groups: [staff] }
  - { username: user074, groups: [staff] }
  - { username: user075, groups: [staff] }
  - { username: user076, groups: [staff] }
  - { username: user077, groups: [staff] }
  - { username: user078, groups: [staff] }
  - { username: user079, groups: [staff] }
  - { username: user080, groups: [staff] }
  - { username: user081, groups: [staff] }
  - { username: user082, groups: [staff] }
  - { username: user083, groups: [staff] }
  - { username: user084, groups: [staff] }
  - { username: user085, groups: [staff] }
  - { username: user086, groups: [staff] }
  - { username: user087, groups: [staff] }
  - { username: user088, groups: [staff] }
  - { username: user089, groups: [staff] }
  - { username: user090, groups: [staff] }
  - { username: user091, groups: [staff] }
  - { username: user092, groups: [staff] }
  - { username: user093, groups: [staff] }
  - { username: user094, groups: [staff] }
  - { username: user095, groups: [staff] }
  - { username: user096, groups: [staff] }
  - { username: user097, groups: [staff] }
  - { username: user098, groups: [staff] }
  - { username: user099, groups: [staff] }
  - { username: user100, groups: [staff] }
  - { username: user101, groups: [staff] }
  - { username: user102, groups: [staff] }
  - { username: user103, groups: [staff] }
  - { username: user104, groups: [staff] }
  - { username: user105, groups: [staff] }
`,
    });
    browser = await launchBrowser();
    page = await browser.browser.newPage();
    await signInToConsole(page, lock.issuer, ADMIN_PASSWORD);
  });
  after(async () => {
    await browser?.close();
    await lock?.close();
    await lock?.database.drop();
  });

  const usernamesShown = async () =>
    (await page.getByRole('table', { name: 'Local users' }).locator('tbody tr').allTextContents()).map(
      (row) => /user\d{3}|enrolled|admin/.exec(row)?.[0],
    );

  it('lists users past 100 a page at a time, with Next and Previous, and finds one by search', async () => {
    await page.goto(`${lock.issuer}/admin#/users`);
    await page.getByRole('navigation', { name: 'Local users pages' }).waitFor();
    const first = await usernamesShown();
    assert.equal(first.length, 25, 'the first page');
    const seen = new Set(first);
    for (let pages = 1; pages < 5; pages++) {
      const shownBefore = (await usernamesShown())[0]!;
      await page.getByRole('button', { name: 'Next page' }).click();
      await page.waitForFunction(
        (before) =>
          [...document.querySelectorAll('table')]
            .find((table) => table.caption?.textContent === 'Local users')
            ?.querySelector('tbody tr')
            ?.textContent?.includes(before) === false,
        shownBefore,
      );
      for (const name of await usernamesShown()) seen.add(name);
    }
    assert.equal(seen.size, 107, 'a hundred and five users, enrolled and the admin, each once');
    assert.equal(await page.getByRole('button', { name: 'Next page' }).isDisabled(), true, 'the last page');
    await page.getByRole('button', { name: 'Previous page' }).click();
    await page.getByRole('searchbox', { name: 'Search users' }).fill('user042');
    await page.getByRole('searchbox', { name: 'Search users' }).press('Enter');
    await page.waitForFunction(
      () =>
        [...document.querySelectorAll('table')].find((table) => table.caption?.textContent === 'Local users')
          ?.tBodies[0]?.rows.length === 1,
    );
    assert.deepEqual(await usernamesShown(), ['user042']);
  });

  it('names every row button after its row ("Disable user001", "Delete client walk-app")', async () => {
    const bare: string[] = [];
    let buttons = 0;
    for (const section of ['users', 'clients', 'apis', 'roles', 'connectors', 'keys']) {
      await page.goto(`${lock.issuer}/admin#/${section}`);
      await page.locator('main h1').waitFor();
      await page.locator('main table tbody tr').first().waitFor();
      if (section === 'users')
        await page.getByRole('table', { name: 'Local users' }).locator('tbody tr').first().waitFor();
      await page.waitForLoadState('networkidle'); // the section's other lists have loaded too
      const names = await page
        .locator('main table tbody tr button')
        .evaluateAll((elements) =>
          elements.map((button) => (button.getAttribute('aria-label') ?? button.textContent ?? '').trim()),
        );
      buttons += names.length;
      for (const name of names) if (!/\S\s+\S/.test(name)) bare.push(`${section}: "${name}"`);
    }
    assert.ok(buttons > 50, `row buttons found: ${buttons}`);
    assert.deepEqual(bare, [], 'no button is announced by its verb alone');
  });

  it('shows the roles in priority order as distinct places 1…n', async () => {
    await page.goto(`${lock.issuer}/admin#/roles`);
    const table = page.getByRole('table', { name: 'Roles, in priority order' });
    await table.waitFor();
    const places = await table.locator('tbody tr td:first-child').allTextContents();
    assert.ok(places.length >= 4, places.join(','));
    assert.deepEqual(
      places.map((place) => Number(place.replace(/\D/g, ''))),
      places.map((_, i) => i + 1),
    );
  });

  it('shows a user’s second factor, resets it after a confirmation, and deletes the user', async () => {
    // enrolled sets up an authenticator app at their first sign-in to /account (their role requires one).
    const theirs = await (await browser.browser.newContext()).newPage();
    await theirs.goto(`${lock.issuer}/account`);
    await theirs.getByLabel('Username').fill('enrolled');
    await theirs.getByLabel('Password').fill('enrolled has a passphrase');
    await theirs.getByRole('button', { name: 'Sign in', exact: true }).click();
    const secret = ((await theirs.locator('#totp-secret').textContent()) ?? '').replace(/\s/g, '');
    await theirs.getByLabel('Enter the 6-digit code the app shows').fill(totpCode(secret));
    await theirs.getByRole('button', { name: 'Turn on two-step sign-in' }).click();
    await theirs.getByRole('heading', { name: 'Save your recovery codes' }).waitFor();
    await theirs.context().close();

    await page.goto(`${lock.issuer}/admin#/users?search=enrolled`);
    await page.getByRole('link', { name: 'enrolled', exact: true }).click();
    const facts = page.locator('dl.facts');
    await facts.waitFor();
    const secondFactor = facts.locator('dt:text-is("Second factor") + dd');
    assert.doesNotMatch((await secondFactor.textContent()) ?? '', /none|off/i);
    await page.getByRole('button', { name: 'Reset two-step sign-in enrolled' }).click();
    const ask = page.getByRole('dialog', { name: 'Reset two-step sign-in of enrolled?' });
    assert.match((await ask.textContent()) ?? '', /recovery codes stop working/);
    await ask.getByRole('button', { name: 'Reset two-step sign-in of enrolled' }).click();
    await page.getByRole('status').filter({ hasText: 'Two-step sign-in of enrolled reset.' }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Reset two-step sign-in enrolled' }).count(), 0);

    // A user made in the console (the file's users are the file's to remove): deleted after a confirmation.
    await page.goto(`${lock.issuer}/admin#/users`);
    const form = page.getByRole('form', { name: 'New user' });
    await form.getByLabel('Username').fill('leaving');
    await form.getByRole('button', { name: 'Create user' }).click();
    await page.getByRole('heading', { name: /^leaving/ }).waitFor();
    await page.getByRole('button', { name: 'Delete leaving' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete leaving' }).click();
    await page.getByRole('status').filter({ hasText: 'Deleted leaving.' }).waitFor();
    const gone = await lock.database.pool.query(`SELECT 1 FROM users WHERE username = 'leaving'`);
    assert.equal(gone.rowCount, 0);
  });
});
