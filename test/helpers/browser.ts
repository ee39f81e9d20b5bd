import { type Browser, chromium } from 'playwright-core';

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
