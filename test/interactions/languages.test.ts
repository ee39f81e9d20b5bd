// The pages speak the person's language (docs/languages.md): ui_locales, then Accept-Language,
// then LOCK_DEFAULT_LOCALE, then English; and the error page of a refused request is in plain
// words with a way back, a reference and the developer detail folded away (issue #23).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { loadEnv } from '../../src/config/env.ts';
import { renderView } from '../../src/interactions/views.ts';
import { localeOf } from '../../src/web/i18n.ts';
import { chooseLanguage } from '../../src/web/locale.ts';
import { type RunningLock, startLock } from '../helpers/lock.ts';
import { ALICE_PASSWORD, CALLBACK, loginConfig } from '../helpers/login-fixtures.ts';
import { readLoginForm, UserAgent } from '../helpers/user-agent.ts';

const SHIPPED = ['en', 'de', 'es', 'fr', 'ja'];

describe('chooseLanguage', () => {
  const choose = (asked: Parameters<typeof chooseLanguage>[0]) => chooseLanguage(asked, SHIPPED);

  it('takes ui_locales first, in its order, skipping languages not shipped', () => {
    assert.equal(choose({ uiLocales: 'de', acceptLanguage: 'ja' }), 'de');
    assert.equal(choose({ uiLocales: 'tlh fr-CA de', acceptLanguage: 'ja' }), 'fr');
    assert.equal(choose({ uiLocales: 'tlh', acceptLanguage: 'ja' }), 'ja');
  });

  it('reads Accept-Language by q-value, ties in order, never q=0, regions to their language', () => {
    assert.equal(choose({ acceptLanguage: 'de-CH' }), 'de');
    assert.equal(choose({ acceptLanguage: 'fr-CH;q=0.4, es;q=0.9, de;q=0' }), 'es');
    assert.equal(choose({ acceptLanguage: 'tlh, ja;q=0.5, fr;q=0.5' }), 'ja');
    assert.equal(choose({ acceptLanguage: 'de;q=0, *;q=0.5' }), 'en');
    assert.equal(choose({ acceptLanguage: 'ES' }), 'es');
  });

  it('whatever a request sends, answers one of the shipped languages and never throws', () => {
    fc.assert(
      fc.property(
        fc.option(fc.string({ maxLength: 200 }), { nil: undefined }),
        fc.option(fc.string({ maxLength: 200 }), { nil: undefined }),
        fc.option(fc.string({ maxLength: 20 }), { nil: undefined }),
        (uiLocales, acceptLanguage, defaultLanguage) =>
          SHIPPED.includes(chooseLanguage({ uiLocales, acceptLanguage, defaultLanguage }, SHIPPED)),
      ),
    );
  });

  it('falls back to the default, then English; garbage is no language', () => {
    assert.equal(choose({ acceptLanguage: 'tlh', defaultLanguage: 'fr' }), 'fr');
    assert.equal(choose({ uiLocales: '<script>', acceptLanguage: ';;;,,q=1', defaultLanguage: 'xx' }), 'en');
    assert.equal(choose({ acceptLanguage: `${'a,'.repeat(10_000)}de` }), 'en', 'a long header is cut');
  });
});

describe('LOCK_DEFAULT_LOCALE', () => {
  it('defaults to en, takes a shipped language, and refuses another with a message naming the choices', () => {
    assert.equal(loadEnv({}).LOCK_DEFAULT_LOCALE, 'en');
    assert.equal(loadEnv({ LOCK_DEFAULT_LOCALE: 'ja' }).LOCK_DEFAULT_LOCALE, 'ja');
    assert.throws(
      () => loadEnv({ LOCK_DEFAULT_LOCALE: 'tlh' }),
      (error: Error) =>
        /LOCK_DEFAULT_LOCALE/.test(error.message) &&
        /must be a language Lock ships: en, de, es, fr, ja/.test(error.message),
    );
  });
});

describe('translated text is escaped by the templates', () => {
  it('a client name with markup stays text inside a German message', () => {
    const html = renderView(
      'login',
      { clientName: '<img src=x onerror=alert(1)>', formAction: '/x', csrfToken: 'c', ssoConnectors: [] },
      localeOf('de'),
    );
    assert.ok(!html.includes('<img src=x'));
    assert.match(html, /<title>Bei &lt;img src=x onerror=alert\(1\)&gt; anmelden – Lock<\/title>/);
  });
});

describe('the login page in the person’s language', () => {
  let lock: RunningLock;
  let frenchByDefault: RunningLock;

  before(async () => {
    lock = await startLock({ config: loginConfig });
    frenchByDefault = await startLock({ config: loginConfig, env: { LOCK_DEFAULT_LOCALE: 'fr' } });
  });
  after(async () => {
    await lock?.close();
    await frenchByDefault?.close();
    await lock?.database.drop();
    await frenchByDefault?.database.drop();
  });

  const authUrl = (issuer: string, extra: Record<string, string> = {}) =>
    `${issuer}/auth?${new URLSearchParams({
      client_id: 'web-app',
      response_type: 'code',
      scope: 'openid',
      redirect_uri: CALLBACK,
      code_challenge: 'a'.repeat(43),
      code_challenge_method: 'S256',
      state: 'state-1',
      ...extra,
    })}`;

  async function loginPage(
    issuer: string,
    extra: Record<string, string>,
    headers: Record<string, string> = {},
  ) {
    const agent = new UserAgent(issuer);
    const { response, url } = await agent.follow(authUrl(issuer, extra), { headers });
    assert.equal(response.status, 200);
    assert.match(url ?? '', /\/interaction\//);
    const html = await response.text();
    return { agent, html, response, lang: /<html lang="([^"]+)">/.exec(html)?.[1] };
  }

  it('ui_locales=de: German, with lang="de" and Content-Language', async () => {
    const { html, lang, response } = await loginPage(lock.issuer, { ui_locales: 'de' });
    assert.equal(lang, 'de');
    assert.equal(response.headers.get('content-language'), 'de');
    assert.match(html, /<title>Bei Web App anmelden – Lock<\/title>/);
    assert.match(html, /<label for="username">Benutzername<\/label>/);
    assert.match(html, /<label for="password">Passwort<\/label>/);
    assert.match(html, /type="submit">Anmelden<\/button>/);
  });

  it('Accept-Language: ja: Japanese, with lang="ja"', async () => {
    const { html, lang } = await loginPage(lock.issuer, {}, { 'accept-language': 'ja' });
    assert.equal(lang, 'ja');
    assert.match(html, /<label for="username">ユーザー名<\/label>/);
    assert.match(html, /<title>Web App にサインイン – Lock<\/title>/);
  });

  it('ui_locales wins over Accept-Language', async () => {
    const { html, lang } = await loginPage(
      lock.issuer,
      { ui_locales: 'es' },
      { 'accept-language': 'ja, de;q=0.8' },
    );
    assert.equal(lang, 'es');
    assert.match(html, /Nombre de usuario/);
  });

  it('an unknown language gets the default: English, or LOCK_DEFAULT_LOCALE', async () => {
    const english = await loginPage(lock.issuer, { ui_locales: 'tlh' }, { 'accept-language': 'kl-GL' });
    assert.equal(english.lang, 'en');
    assert.match(english.html, /<label for="username">Username<\/label>/);
    const french = await loginPage(
      frenchByDefault.issuer,
      { ui_locales: 'tlh' },
      { 'accept-language': 'kl-GL' },
    );
    assert.equal(french.lang, 'fr');
    assert.match(french.html, /Nom d’utilisateur/);
    const asked = await loginPage(frenchByDefault.issuer, {}, { 'accept-language': 'en-GB' });
    assert.equal(asked.lang, 'en', 'a language the browser asks for wins over the default');
  });

  it('a wrong password is refused in the sign-in’s language', async () => {
    const { agent, html } = await loginPage(lock.issuer, { ui_locales: 'fr' });
    const form = readLoginForm(html);
    const refused = await agent.request(new URL(form.action, lock.issuer).toString(), {
      form: { csrf: form.csrf, username: 'alice', password: 'not her password' },
    });
    assert.equal(refused.status, 401);
    const page = await refused.text();
    assert.match(page, /<html lang="fr">/);
    assert.match(page, /role="alert">Nom d’utilisateur ou mot de passe incorrect\.<\/div>/);
    assert.match(page, /<title>Erreur : Se connecter à Web App – Lock<\/title>/);
  });

  it('the consent page follows the sign-in’s ui_locales', async () => {
    const agent = new UserAgent(lock.issuer);
    const start = await agent.follow(
      `${lock.issuer}/auth?${new URLSearchParams({
        client_id: 'partner-app',
        response_type: 'code',
        scope: 'openid email',
        redirect_uri: 'https://partner.example.com/cb',
        code_challenge: 'a'.repeat(43),
        code_challenge_method: 'S256',
        ui_locales: 'de',
      })}`,
      { headers: { 'accept-language': 'ja' } },
    );
    const form = readLoginForm(await start.response.text());
    const consent = await agent.follow(new URL(form.action, lock.issuer).toString(), {
      form: { csrf: form.csrf, username: 'alice', password: ALICE_PASSWORD },
      headers: { 'accept-language': 'ja' },
    });
    const html = await consent.response.text();
    assert.match(html, /<html lang="de">/);
    assert.match(html, /<title>Partner App Zugriff erlauben\? – Lock<\/title>/);
    assert.match(html, /<span class="permission">Ihre E-Mail-Adresse zu sehen<\/span> <code>email<\/code>/);
    assert.match(html, /type="submit">Erlauben<\/button>/);
  });

  it('the sign-out page (oidc-provider’s) follows Accept-Language', async () => {
    const { agent, html: login } = await loginPage(lock.issuer, {});
    const form = readLoginForm(login);
    const signedIn = await agent.follow(new URL(form.action, lock.issuer).toString(), {
      form: { csrf: form.csrf, username: 'alice', password: ALICE_PASSWORD },
    });
    assert.match(signedIn.left ?? '', /^https:\/\/app\.example\.com\/callback\?code=/);
    const response = await agent.request(`${lock.issuer}/session/end`, {
      headers: { 'accept-language': 'fr-FR' },
    });
    assert.equal(response.status, 200);
    const html = await response.text();
    assert.match(html, /<html lang="fr">/);
    assert.match(html, /<h1>Se déconnecter de Lock \?<\/h1>/);
    assert.match(html, /value="yes" autofocus>Se déconnecter<\/button>/);
  });

  it('the device page (oidc-provider’s) follows Accept-Language', async () => {
    const response = await fetch(`${lock.issuer}/device`, {
      headers: { 'accept-language': 'de-DE,de;q=0.9' },
    });
    assert.equal(response.status, 200);
    const html = await response.text();
    assert.match(html, /<html lang="de">/);
    assert.match(html, /<h1>Gerät verbinden<\/h1>/);
  });
});

describe('the error page of a refused authorization request (issue #23)', () => {
  let lock: RunningLock;
  before(async () => {
    lock = await startLock({ config: loginConfig });
  });
  after(async () => {
    await lock?.close();
    await lock?.database.drop();
  });

  const auth = (params: Record<string, string>, headers: Record<string, string> = {}) =>
    fetch(
      `${lock.issuer}/auth?${new URLSearchParams({ response_type: 'code', scope: 'openid', ...params })}`,
      { headers: { accept: 'text/html', ...headers }, redirect: 'manual' },
    );

  it('a redirect_uri the client did not register: plain words, a way back, the reference, the detail folded', async () => {
    const response = await auth({ client_id: 'web-app', redirect_uri: 'https://evil.example.com/cb' });
    assert.equal(response.status, 400, 'oidc-provider’s status is kept');
    assert.equal(response.headers.get('location'), null);
    const page = await response.text();
    const [outside, folded = ''] = page.split('<details class="developer-details">');
    assert.match(outside!, /<h1>This sign-in link is not valid<\/h1>/);
    assert.match(outside!, /This application sent you here with an address Lock doesn’t know/);
    assert.doesNotMatch(outside!, /redirect_uri did not match/, 'no developer text in the person’s words');
    // The way back: the client's home, from what the administrator registered (never what was sent).
    assert.match(
      outside!,
      /<a class="button button-secondary" href="https:\/\/app\.example\.com\/">Back to Web App<\/a>/,
    );
    // The reference to quote is the request id the response carries.
    const requestId = response.headers.get('x-request-id');
    assert.ok(requestId);
    assert.match(outside!, new RegExp(`<code class="reference">${requestId}</code>`));
    assert.match(folded, /<summary>Details for the application’s developers<\/summary>/);
    assert.match(folded, /<dt>Error<\/dt>\s*<dd><code>invalid_redirect_uri<\/code><\/dd>/);
    assert.match(folded, /redirect_uri did not match any of the client&#39;s registered redirect_uris/);
    assert.match(folded, /<dt>Client ID<\/dt>\s*<dd><code>web-app<\/code><\/dd>/);
    assert.match(
      folded,
      /<dt>Redirect URI sent<\/dt>\s*<dd><code>https:\/\/evil\.example\.com\/cb<\/code><\/dd>/,
    );
    assert.doesNotMatch(page, /href="https:\/\/evil/);
  });

  it('in the request’s language: ui_locales, else Accept-Language', async () => {
    const japanese = await (
      await auth({ client_id: 'web-app', redirect_uri: 'https://evil.example.com/cb', ui_locales: 'ja' })
    ).text();
    assert.match(japanese, /<html lang="ja">/);
    assert.match(japanese, /<h1>このサインインリンクは無効です<\/h1>/);
    assert.match(japanese, /Web App に戻る/);
    const german = await (
      await auth(
        { client_id: 'web-app', redirect_uri: 'https://evil.example.com/cb' },
        { 'accept-language': 'de' },
      )
    ).text();
    assert.match(german, /<html lang="de">/);
    assert.match(german, /Lock nicht kennt/);
  });

  it('an unknown client: plain words, the reference, no way back', async () => {
    const response = await auth({ client_id: 'nobody', redirect_uri: 'https://evil.example.com/cb' });
    assert.equal(response.status, 400);
    const page = await response.text();
    assert.match(page, /<h1>Unknown application<\/h1>/);
    assert.match(page, new RegExp(`<code class="reference">${response.headers.get('x-request-id')}</code>`));
    assert.doesNotMatch(page, /Back to/);
    assert.match(page, /<dt>Client ID<\/dt>\s*<dd><code>nobody<\/code><\/dd>/);
  });
});
