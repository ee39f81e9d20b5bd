// The console's entity pages in headless Chromium, at a desktop (1280×800) and a phone (390×844)
// size: editing a client (grant types picked, a redirect URI added, saved, still there after a
// reload), an API, a role (moved up) and a role mapping; an invalid client form (focus on the first
// field at fault, the bad redirect URI item marked); the secret dialog (after creation and after
// regeneration); a 412 when someone else saved first; the SAML form showing Lock's URLs before the
// connector exists; no horizontal overflow on the phone.
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { launchBrowser, signInToConsole } from '../helpers/browser.ts';
import { type RunningLock, startLock } from '../helpers/lock.ts';

const ADMIN_PASSWORD = 'the bootstrap admin passphrase';
const SIZES = [
  { name: 'desktop', width: 1280, height: 800 },
  { name: 'phone', width: 390, height: 844 },
] as const;

describe('admin console entity pages', () => {
  let lock: RunningLock;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;

  before(async () => {
    lock = await startLock({ env: { LOCK_BOOTSTRAP_ADMIN_PASSWORD: ADMIN_PASSWORD } });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await lock?.close();
    await lock?.database.drop();
  });

  /** The page is no wider than the viewport (nothing to scroll sideways). */
  const assertNoOverflow = async (page: Page, width: number, where: string) => {
    const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(scrollWidth <= width, `${where}: the page is ${scrollWidth} px wide at ${width} px`);
  };

  const status = (page: Page, text: string | RegExp) => page.getByRole('status').filter({ hasText: text });

  for (const size of SIZES) {
    it(`edits a client, an API, a role and a role mapping at ${size.width}×${size.height}`, async () => {
      const s = size.name;
      const context = await browser.browser.newContext({
        viewport: { width: size.width, height: size.height },
      });
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      /** Answers the console's confirmation dialog with its action, after checking what it says. */
      const confirmWith = async (action: string, says: RegExp) => {
        const dialog = page.getByRole('dialog');
        await dialog.waitFor();
        assert.match((await dialog.textContent()) ?? '', says);
        await dialog.getByRole('button', { name: action, exact: true }).click();
      };
      await signInToConsole(page, lock.issuer, ADMIN_PASSWORD);
      await page.getByRole('heading', { name: 'Connectors' }).waitFor();

      // Roles: two new ones; the second moves up above the first; one gets a description.
      await page.goto(`${lock.issuer}/admin#/roles`);
      await page.getByRole('heading', { name: 'Roles & mappings' }).waitFor();
      const newRole = page.getByRole('form', { name: 'New role' });
      for (const name of [`reader_${s}`, `writer_${s}`]) {
        await newRole.getByLabel('Role name').fill(name);
        await newRole.getByRole('button', { name: 'Create role' }).click();
        await status(page, `Role ${name} created.`).waitFor();
      }
      const places = async () =>
        page
          .getByRole('row')
          .filter({ has: page.locator('code', { hasText: new RegExp(`^(reader|writer)_${s}$`) }) })
          .evaluateAll((rows) => rows.map((row) => row.querySelector('td')?.textContent ?? ''));
      const [readerPlace, writerPlace] = (await places()).map(Number);
      assert.equal(writerPlace, readerPlace! + 1, 'a new role goes last');
      await page.getByRole('button', { name: `Move writer_${s} up` }).click();
      await status(page, `Moved writer_${s} to place ${readerPlace}.`).waitFor();
      assert.deepEqual(
        await page
          .getByRole('row')
          .filter({ hasText: new RegExp(`(reader|writer)_${s}`) })
          .locator('code')
          .allTextContents(),
        [`writer_${s}`, `reader_${s}`],
      );
      await page.getByRole('link', { name: `Open role reader_${s}` }).click();
      await page.getByRole('heading', { name: `Role reader_${s}` }).waitFor();
      await page.getByLabel('Description').fill('Reads orders');
      await page.getByRole('button', { name: 'Save changes' }).click();
      await status(page, `Saved role reader_${s}.`).waitFor();
      await page.reload();
      await page.getByRole('heading', { name: `Role reader_${s}` }).waitFor();
      assert.equal(await page.getByLabel('Description').inputValue(), 'Reads orders');

      // A role mapping: created with one role picked, edited to hold both.
      await page.goto(`${lock.issuer}/admin#/roles`);
      const newMapping = page.getByRole('form', { name: 'New role mapping' });
      await newMapping.getByLabel('Upstream group').fill(`staff-${s}`);
      await newMapping.getByRole('checkbox', { name: `reader_${s}` }).check();
      await newMapping.getByRole('button', { name: 'Create mapping' }).click();
      await status(page, `Group staff-${s} now maps to reader_${s}.`).waitFor();
      await page.getByRole('link', { name: `Open the mapping of staff-${s}` }).click();
      await page.getByRole('heading', { name: `Mapping of staff-${s}` }).waitFor();
      await page.getByRole('checkbox', { name: `writer_${s}` }).check();
      await page.getByRole('button', { name: 'Save changes' }).click();
      await status(page, `Saved the mapping of staff-${s}.`).waitFor();
      await page.reload();
      await page.getByRole('heading', { name: `Mapping of staff-${s}` }).waitFor();
      assert.equal(await page.getByRole('checkbox', { name: `reader_${s}` }).isChecked(), true);
      assert.equal(await page.getByRole('checkbox', { name: `writer_${s}` }).isChecked(), true);

      // An API: created with a role picked; its token lifetime edited and still there after a reload.
      const apiId = `https://orders-${s}.example.com`;
      await page.goto(`${lock.issuer}/admin#/apis`);
      await page.getByRole('heading', { name: 'APIs', exact: true }).waitFor();
      await page.getByLabel('Identifier (audience URL)').fill(apiId);
      await page.getByLabel('Scopes').fill('read write');
      await page.getByRole('checkbox', { name: `reader_${s}` }).check();
      await page.getByRole('button', { name: 'Create API' }).click();
      await status(page, `API ${apiId} created.`).waitFor();
      await page.getByRole('link', { name: `Open API ${apiId}` }).click();
      await page.getByRole('heading', { name: `API ${apiId}` }).waitFor();
      assert.equal(await page.getByRole('checkbox', { name: `reader_${s}` }).isChecked(), true);
      await page.getByLabel('Access token lifetime (s)').fill('600');
      await page.getByRole('checkbox', { name: `writer_${s}` }).check();
      await page.getByRole('button', { name: 'Save changes' }).click();
      await status(page, `Saved API ${apiId}.`).waitFor();
      await page.reload();
      await page.getByRole('heading', { name: `API ${apiId}` }).waitFor();
      assert.equal(await page.getByLabel('Access token lifetime (s)').inputValue(), '600');
      assert.equal(await page.getByRole('checkbox', { name: `writer_${s}` }).isChecked(), true);

      // An invalid client: the errors sit beside the form, focus is on the first field at fault,
      // and the bad redirect URI (the second item) is the one marked.
      await page.goto(`${lock.issuer}/admin#/clients`);
      await page.getByRole('heading', { name: 'Clients' }).waitFor();
      const form = page.getByRole('form', { name: 'New client' });
      await form.getByLabel('Redirect URIs, item 1', { exact: true }).fill('https://shop.example.com/cb');
      await form.getByRole('button', { name: 'Add to Redirect URIs', exact: true }).click();
      await form.getByLabel('Redirect URIs, item 2', { exact: true }).fill('not a url');
      await form.getByRole('button', { name: 'Create client' }).click();
      const alert = form.getByRole('alert');
      await alert.waitFor();
      assert.match((await alert.textContent()) ?? '', /redirectUris\[1\]/);
      assert.equal(
        await form.getByLabel('Redirect URIs, item 2', { exact: true }).getAttribute('aria-invalid'),
        'true',
      );
      assert.equal(
        await form.getByLabel('Redirect URIs, item 1', { exact: true }).getAttribute('aria-invalid'),
        null,
      );
      assert.equal(
        await page.evaluate(() => document.activeElement?.getAttribute('name')),
        'clientId',
        'focus is on the first field at fault: the empty client ID',
      );
      assert.equal(await form.getByLabel('Client ID', { exact: true }).getAttribute('aria-invalid'), 'true');

      // Now valid: the one-time secret comes in the dialog, with Copy.
      const clientId = `shop-${s}`;
      await form.getByLabel('Client ID', { exact: true }).fill(clientId);
      await form.getByLabel('Redirect URIs, item 2', { exact: true }).fill('https://shop.example.com/other');
      await form.getByRole('button', { name: 'Remove Redirect URIs, item 2', exact: true }).click();
      await form
        .getByRole('group', { name: 'APIs it gets tokens for' })
        .getByRole('checkbox', { name: apiId })
        .check();
      await form.getByRole('button', { name: 'Create client' }).click();
      const dialog = page.getByRole('dialog', { name: `Secret of client ${clientId}` });
      await dialog.waitFor();
      const firstSecret = (await dialog.locator('#one-time-secret').textContent()) ?? '';
      assert.ok(firstSecret.length >= 32, 'the secret is shown once, in the dialog');
      await dialog.getByRole('button', { name: 'Copy' }).click();
      await dialog.getByText(/Copied to the clipboard|did not allow copying/).waitFor();
      await dialog.getByRole('button', { name: 'Done' }).click();
      await dialog.waitFor({ state: 'detached' });

      // The client's page: grant types picked, a redirect URI added, saved, there after a reload.
      await page.getByRole('heading', { name: `Client ${clientId}` }).waitFor();
      await assertNoOverflow(page, size.width, 'client detail');
      const grants = page.getByRole('group', { name: 'Grant types' });
      assert.equal(await grants.getByRole('checkbox', { name: /authorization_code/ }).isChecked(), true);
      await grants.getByRole('checkbox', { name: /client_credentials/ }).check();
      await page.getByRole('button', { name: 'Add to Redirect URIs', exact: true }).click();
      await page.getByLabel('Redirect URIs, item 2', { exact: true }).fill('https://shop.example.com/cb2');
      await page.getByRole('checkbox', { name: /Require a passkey/ }).check();
      await page.getByRole('button', { name: 'Save changes' }).click();
      await status(page, `Saved client ${clientId}.`).waitFor();
      await page.reload();
      await page.getByRole('heading', { name: `Client ${clientId}` }).waitFor();
      assert.equal(await page.getByRole('checkbox', { name: /Require a passkey/ }).isChecked(), true);
      assert.equal(await grants.getByRole('checkbox', { name: /client_credentials/ }).isChecked(), true);
      assert.equal(await grants.getByRole('checkbox', { name: /refresh_token/ }).isChecked(), true);
      assert.equal(
        await page.getByLabel('Redirect URIs, item 1', { exact: true }).inputValue(),
        'https://shop.example.com/cb',
      );
      assert.equal(
        await page.getByLabel('Redirect URIs, item 2', { exact: true }).inputValue(),
        'https://shop.example.com/cb2',
      );
      await assertNoOverflow(page, size.width, 'client detail');
      if (process.env.LOCK_SCREENSHOTS_DIR) {
        await mkdir(process.env.LOCK_SCREENSHOTS_DIR, { recursive: true });
        await page.screenshot({
          path: join(process.env.LOCK_SCREENSHOTS_DIR, `client-detail-${size.width}x${size.height}.png`),
          fullPage: true,
        });
      }

      // Regenerate the secret: confirmed, then shown once in the dialog; the old one is gone.
      await page.getByRole('button', { name: 'Regenerate secret' }).click();
      await confirmWith('Regenerate secret', /current secret stops working at once/);
      await dialog.waitFor();
      const secondSecret = (await dialog.locator('#one-time-secret').textContent()) ?? '';
      assert.ok(secondSecret.length >= 32);
      assert.notEqual(secondSecret, firstSecret);
      await dialog.getByRole('button', { name: 'Done' }).click();

      // Someone else saves first (another tab): this tab's save is refused with a reload offered.
      const other = await context.newPage();
      await other.goto(`${lock.issuer}/admin#/clients/${clientId}`);
      await other.getByRole('heading', { name: `Client ${clientId}` }).waitFor();
      await page.reload();
      await page.getByRole('heading', { name: `Client ${clientId}` }).waitFor();
      await other.getByLabel('Name', { exact: true }).fill('Shop (theirs)');
      await other.getByRole('button', { name: 'Save changes' }).click();
      await status(other, `Saved client ${clientId}.`).waitFor();
      await page.getByLabel('Name', { exact: true }).fill('Shop (mine)');
      await page.getByRole('button', { name: 'Save changes' }).click();
      const conflict = page.getByRole('alert').filter({ hasText: 'Someone else changed' });
      await conflict.waitFor();
      await conflict.getByRole('button', { name: 'Reload' }).click();
      await conflict.waitFor({ state: 'detached' });
      await page.locator('input[name="name"][value="Shop (theirs)"]').waitFor();
      assert.equal(await page.getByLabel('Name', { exact: true }).inputValue(), 'Shop (theirs)');
      await other.close();

      // The clients list fits the phone.
      await page.goto(`${lock.issuer}/admin#/clients`);
      await page.getByRole('link', { name: `Open client ${clientId}` }).waitFor();
      await assertNoOverflow(page, size.width, 'clients list');

      // A role mapping deleted from its page, the confirmation naming what follows.
      await page.goto(`${lock.issuer}/admin#/roles/mapping/*/staff-${s}`);
      await page.getByRole('heading', { name: `Mapping of staff-${s}` }).waitFor();
      await page.getByRole('button', { name: 'Delete mapping' }).click();
      await confirmWith(`Delete the mapping of staff-${s}`, new RegExp(`People in staff-${s} no longer get`));
      await status(page, `Deleted the mapping of staff-${s}.`).waitFor();

      // SAML: Lock's entity ID, ACS URL and metadata URL before the connector exists.
      await page.goto(`${lock.issuer}/admin#/connectors/saml/new`);
      await page.getByRole('heading', { name: 'New SAML connector' }).waitFor();
      await page.getByLabel('ID', { exact: true }).fill(`partner-${s}`);
      const base = `${lock.issuer}/saml/partner-${s}`;
      assert.equal(await page.locator('#sp-entity-id').textContent(), `${base}/metadata`);
      assert.equal(await page.locator('#sp-acs-url').textContent(), `${base}/acs`);
      assert.equal(await page.locator('#sp-metadata-url').textContent(), `${base}/metadata`);
      await page.getByLabel('Display name').fill('Partner IdP');
      await page.getByRole('button', { name: 'Create connector' }).click();
      await page.getByRole('alert').waitFor();
      assert.equal(await page.getByRole('alert').count(), 1, 'the error is shown once');
      await assertNoOverflow(page, size.width, 'SAML form');

      assert.deepEqual(errors, []);
      await context.close();
    });
  }
});
