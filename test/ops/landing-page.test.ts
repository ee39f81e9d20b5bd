import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LANGUAGES, localeOf } from '../../src/web/i18n.ts';
import { ADMIN_PASSWORD } from '../admin/admin-api.ts';
import { launchBrowser } from '../helpers/browser.ts';
import { type RunningLock, startLock } from '../helpers/lock.ts';
import { ALICE_PASSWORD, loginConfig, WEB_SECRET } from '../helpers/login-fixtures.ts';

/** Where the page's screenshots go when set (e.g. docs/screenshots): landing-<size>-<scheme>.png. */
const SCREENSHOTS = process.env.LOCK_SCREENSHOTS_DIR;

const SIZES = [
  { name: 'desktop', width: 1280, height: 800 },
  { name: 'phone', width: 390, height: 844 },
] as const;

describe('the landing page at /', () => {
  let lock: RunningLock;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;

  before(async () => {
    lock = await startLock({ config: loginConfig, env: { LOCK_BOOTSTRAP_ADMIN_PASSWORD: ADMIN_PASSWORD } });
    browser = await launchBrowser();
    if (SCREENSHOTS) await mkdir(SCREENSHOTS, { recursive: true });
  });
  after(async () => {
    await browser?.close();
    await lock?.close();
    await lock?.database.drop();
  });

  it('answers 200 HTML with a strict CSP, naming the issuer and linking what a newcomer looks for', async () => {
    const response = await fetch(`${lock.issuer}/`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type')!, /^text\/html; charset=utf-8$/);
    const csp = response.headers.get('content-security-policy')!;
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.match(csp, /script-src 'self';/, "scripts only from Lock's /assets");
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/, 'no inline script');
    const html = await response.text();
    assert.match(html, /<title>Sign-in service – Lock<\/title>/);
    assert.ok(html.includes(`<code class="reference">${lock.issuer}</code>`), 'the issuer is named');
    for (const path of [
      '/admin',
      '/.well-known/openid-configuration',
      '/jwks',
      '/healthz',
      '/admin/api/v1/openapi.json',
    ])
      assert.ok(html.includes(`href="${lock.issuer}${path}"`), `links ${path}`);
    assert.match(html, /README\.md/);
    assert.match(html, /docs\//);
    assert.doesNotMatch(
      html.replace(/<script src="\/assets\/lock\.js" defer[^>]*><\/script>/, ''),
      /<script|style=/i,
      'no inline script or style',
    );

    // Every link leads somewhere that answers.
    for (const href of html.matchAll(/href="(http[^"]+)"/g)) {
      const target = await fetch(href[1]!);
      assert.equal(target.status, 200, `${href[1]} answers`);
    }
  });

  it('speaks the reader’s language (Accept-Language), every shipped one in full', async () => {
    const german = await fetch(`${lock.issuer}/`, { headers: { 'accept-language': 'de-CH, en;q=0.5' } });
    assert.equal(german.headers.get('content-language'), 'de');
    assert.match(german.headers.get('vary') ?? '', /Accept-Language/i, 'a cache keeps one page per language');
    const html = await german.text();
    assert.match(html, /<html lang="de">/);
    assert.match(html, /<h1>Anmeldedienst<\/h1>/);
    assert.match(html, />Admin-Konsole<\/a>/);
    for (const language of LANGUAGES) {
      const page = await (
        await fetch(`${lock.issuer}/`, { headers: { 'accept-language': language } })
      ).text();
      assert.match(page, new RegExp(`<html lang="${language}">`));
      assert.doesNotMatch(page, /landing\.|layout\./, `${language}: every message is in the catalogue`);
      const english = localeOf('en');
      if (language !== 'en')
        for (const key of ['heading', 'lead', 'console', 'docs'])
          assert.ok(!page.includes(english.t(`landing.${key}`)), `${language}: landing.${key} is translated`);
    }
  });

  it('links the documentation LOCK_DOCS_URL names (and names README.md and docs/ without it)', async () => {
    const withDocs = await startLock({ env: { LOCK_DOCS_URL: 'https://docs.example.com/lock/' } });
    try {
      const html = await (await fetch(`${withDocs.issuer}/`)).text();
      assert.match(html, /<a href="https:\/\/docs\.example\.com\/lock\/">Documentation<\/a>/);
      assert.doesNotMatch(html, /README\.md/, 'the link replaces the note');
    } finally {
      await withDocs.close();
      await withDocs.database.drop();
    }
    assert.doesNotMatch(await (await fetch(`${lock.issuer}/`)).text(), />Documentation<\/a>/);
  });

  it('holds no secret and no user data', async () => {
    const html = await (await fetch(`${lock.issuer}/`)).text();
    for (const secret of [ADMIN_PASSWORD, ALICE_PASSWORD, WEB_SECRET])
      assert.ok(!html.includes(secret), 'no secret');
    for (const name of ['alice', 'bob', 'web-app', 'app_readwrite', 'db-api.example.com'])
      assert.ok(!html.includes(name), `nothing of the configuration (${name})`);
  });

  it('is / exactly: other paths stay oidc-provider’s, and only GET and HEAD are served', async () => {
    assert.equal((await fetch(`${lock.issuer}/?utm_source=x`)).status, 200, 'a query aside');
    assert.equal((await fetch(`${lock.issuer}/`, { method: 'HEAD' })).status, 200);
    const post = await fetch(`${lock.issuer}/`, { method: 'POST' });
    assert.equal(post.status, 405);
    assert.match(post.headers.get('allow') ?? '', /GET/);
    assert.equal((await fetch(`${lock.issuer}/nothing-here`)).status, 404);
    const discovery = await fetch(`${lock.issuer}/.well-known/openid-configuration`);
    assert.equal(discovery.status, 200, 'the protocol endpoints are untouched');
  });

  it('fits a phone in every shipped language (longer words, other scripts)', async () => {
    for (const language of LANGUAGES) {
      const context = await browser.browser.newContext({
        viewport: { width: 390, height: 844 },
        locale: language,
      });
      const page = await context.newPage();
      await page.goto(`${lock.issuer}/`);
      assert.equal(await page.getAttribute('html', 'lang'), language);
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(width <= 390, `${language}: page ${width}px wide at 390px`);
      if (SCREENSHOTS && language !== 'en')
        await page.screenshot({ path: join(SCREENSHOTS, `landing-phone-${language}.png`), fullPage: true });
      await context.close();
    }
  });

  for (const size of SIZES)
    for (const colorScheme of ['light', 'dark'] as const)
      it(`fits ${size.width}×${size.height} (${colorScheme}) with no horizontal overflow, and the console link works`, async () => {
        const context = await browser.browser.newContext({
          viewport: { width: size.width, height: size.height },
          colorScheme,
        });
        const page = await context.newPage();
        const violations: string[] = [];
        page.on('console', (message) => {
          if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
        });
        await page.goto(`${lock.issuer}/`);
        assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Sign-in service');
        const overflow = await page.evaluate(() => ({
          document: document.documentElement.scrollWidth,
          viewport: window.innerWidth,
          wider: [...document.querySelectorAll('body *')]
            .filter((element) => element.getBoundingClientRect().right > window.innerWidth + 0.5)
            .map((element) => element.tagName + (element.className ? `.${element.className}` : '')),
        }));
        assert.ok(
          overflow.document <= overflow.viewport,
          `page ${overflow.document}px wide at ${overflow.viewport}px`,
        );
        assert.deepEqual(overflow.wider, [], 'no element sticks out to the right');
        const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
        assert.equal(background, colorScheme === 'dark' ? 'rgb(14, 17, 22)' : 'rgb(243, 244, 246)');
        if (SCREENSHOTS)
          await page.screenshot({
            path: join(SCREENSHOTS, `landing-${size.name}-${colorScheme}.png`),
            fullPage: true,
          });

        // Keyboard: the first Tab reaches the console link, and following it opens the console.
        await page.keyboard.press('Tab');
        assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Admin console');
        await page.keyboard.press('Enter');
        await page.waitForURL((url) => url.pathname === '/admin' || url.pathname.startsWith('/interaction/'));
        assert.deepEqual(violations, [], 'no Content-Security-Policy violation');
        await context.close();
      });
});
