import { type Browser, chromium, type Page } from 'playwright-core';
import { nextCode, rememberEnrolment, totpCode } from './second-factor.ts';

const CHROMIUM = process.env.LOCK_TEST_CHROMIUM ?? '/usr/bin/chromium';

/** Debian's headless Chromium (installed by test/peers/install.sh); Playwright gives it a fresh profile. */
export async function launchBrowser(): Promise<{ browser: Browser; close(): Promise<void> }> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  return {
    browser,
    close: () => browser.close(),
  };
}

/**
 * Signs `page` in to the admin console at `issuer` as the bootstrap admin, through the second
 * factor as a person would (enrolling at the first sign-in, then with the codes it saved).
 */
export async function signInToConsole(page: Page, issuer: string, password: string): Promise<void> {
  await page.goto(`${issuer}/admin`);
  await page.getByLabel('Username').fill('admin');
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.waitForURL((url) => url.pathname === '/admin' || url.pathname.endsWith('/totp'));
  if (await page.getByRole('heading', { name: 'Set up two-step sign-in' }).isVisible()) {
    const secret = ((await page.locator('#totp-secret').textContent()) ?? '').replace(/\s/g, '');
    await page.getByLabel('Enter the 6-digit code the app shows').fill(totpCode(secret));
    await page.getByRole('button', { name: 'Turn on two-step sign-in' }).click();
    await page.getByRole('heading', { name: 'Save your recovery codes' }).waitFor();
    rememberEnrolment(
      issuer,
      'admin',
      secret,
      await page.locator('ol.recovery-codes code').allTextContents(),
    );
    await page.getByRole('button', { name: /continue/i }).click();
  } else if (await page.getByRole('heading', { name: 'Enter your code' }).isVisible()) {
    await page.getByLabel(/Authentication code/).fill(nextCode(issuer, 'admin'));
    await page.getByRole('button', { name: 'Verify' }).click();
  }
  await page.waitForURL((url) => url.pathname === '/admin');
}
