import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import Koa from 'koa';
import { serveAssets } from '../../src/interactions/assets.ts';
import {
  type ConsentView,
  contentSecurityPolicy,
  LOCK_CSP,
  type LoginView,
  renderView,
  VIEWS_DIR,
  type ViewData,
  type ViewName,
} from '../../src/interactions/views.ts';
import { localeOf } from '../../src/web/i18n.ts';

/** A page in English, the default language (test/interactions/languages.test.ts covers the others). */
function render<N extends ViewName>(name: N, data: ViewData[N]): string {
  return renderView(name, data, localeOf('en'));
}

// Our templates always double-quote attribute values, and escaping keeps `"` out of them, so a small
// tag scanner is enough to read what a browser would see.
interface Tag {
  name: string;
  attrs: Map<string, string>;
  index: number;
}

function tags(html: string, name?: string): Tag[] {
  const found: Tag[] = [];
  for (const match of html.matchAll(/<([a-zA-Z][\w-]*)((?:\s+[^\s=>/]+(?:="[^"]*")?)*)\s*\/?>/g)) {
    const attrs = new Map<string, string>();
    for (const attr of (match[2] ?? '').matchAll(/([^\s=>/]+)(?:="([^"]*)")?/g)) {
      attrs.set(attr[1]!, attr[2] ?? '');
    }
    const tagName = match[1]!.toLowerCase();
    if (name === undefined || tagName === name) found.push({ name: tagName, attrs, index: match.index });
  }
  return found;
}

function only(html: string, name: string, attr: string, value: string): Tag {
  const matching = tags(html, name).filter((t) => t.attrs.get(attr) === value);
  assert.equal(matching.length, 1, `exactly one <${name} ${attr}="${value}">`);
  return matching[0]!;
}

/** The text between an element's opening tag and its closing tag (no nesting of the same element). */
function inner(html: string, tag: Tag): string {
  const start = html.indexOf('>', tag.index) + 1;
  return html.slice(start, html.indexOf(`</${tag.name}>`, start));
}

const login: LoginView = {
  clientName: 'Acme Payroll',
  formAction: '/interaction/uid-1/login',
  csrfToken: 'csrf-token-1',
  ssoConnectors: [],
};

const consent: ConsentView = {
  clientName: 'Acme Payroll',
  scopes: ['openid', 'email', 'payroll:read'],
  resources: ['https://api.acme.example/payroll'],
  formAction: '/interaction/uid-1/confirm',
  cancelAction: '/interaction/uid-1/abort',
  csrfToken: 'csrf-token-2',
};

const everyPage = (): Array<[string, string]> => [
  ['login', render('login', login)],
  [
    'login with error and SSO',
    render('login', {
      ...login,
      username: 'jane',
      error: 'Invalid username or password.',
      ssoConnectors: [{ id: 'okta', name: 'Okta', href: '/interaction/uid-1/sso/okta' }],
    }),
  ],
  ['consent', render('consent', consent)],
  ['logout', render('logout', { clientName: 'Acme Payroll', formAction: '/session/end/confirm', xsrf: 'x' })],
  ['logged-out', render('logged-out', { clientName: 'Acme Payroll' })],
  ['error', render('error', { title: 'Something went wrong', message: 'Try again.', requestId: 'req-1' })],
];

describe('login page', () => {
  test('one POST form with username, password and csrf fields and a "Sign in" button', () => {
    const html = render('login', login);
    const forms = tags(html, 'form');
    assert.equal(forms.length, 1);
    assert.equal(forms[0]!.attrs.get('method'), 'post');
    assert.equal(forms[0]!.attrs.get('action'), '/interaction/uid-1/login');

    const username = only(html, 'input', 'name', 'username');
    assert.equal(username.attrs.get('autocomplete'), 'username');
    assert.equal(username.attrs.get('type'), 'text');
    const password = only(html, 'input', 'name', 'password');
    assert.equal(password.attrs.get('type'), 'password');
    assert.equal(password.attrs.get('autocomplete'), 'current-password');
    const csrf = only(html, 'input', 'name', 'csrf');
    assert.equal(csrf.attrs.get('type'), 'hidden');
    assert.equal(csrf.attrs.get('value'), 'csrf-token-1');
    assert.equal(tags(html, 'input').length, 3);

    const buttons = tags(html, 'button');
    assert.equal(buttons.length, 1);
    assert.equal(buttons[0]!.attrs.get('type'), 'submit');
    assert.equal(inner(html, buttons[0]!), 'Sign in');
  });

  test('every visible input has a <label for> bound to its id', () => {
    const html = render('login', login);
    const labels = tags(html, 'label');
    for (const input of tags(html, 'input').filter((t) => t.attrs.get('type') !== 'hidden')) {
      const id = input.attrs.get('id');
      assert.ok(id, `input ${input.attrs.get('name')} has an id`);
      const label = labels.find((l) => l.attrs.get('for') === id);
      assert.ok(label, `a label is bound to #${id}`);
      assert.notEqual(inner(html, label).trim(), '');
    }
  });

  test('names the client, has a meaningful title and lang="en"', () => {
    const html = render('login', login);
    assert.match(html, /to continue to <strong[^>]*>Acme Payroll<\/strong>/);
    assert.equal(inner(html, tags(html, 'title')[0]!), 'Sign in to Acme Payroll – Lock');
    assert.equal(tags(html, 'html')[0]!.attrs.get('lang'), 'en');
    assert.match(html, /^<!doctype html>/);
  });

  test('username starts empty and focused; prefilled from username, else login_hint, then password is focused', () => {
    const empty = render('login', login);
    assert.equal(only(empty, 'input', 'name', 'username').attrs.get('value'), '');
    assert.ok(only(empty, 'input', 'name', 'username').attrs.has('autofocus'));
    assert.ok(!only(empty, 'input', 'name', 'password').attrs.has('autofocus'));

    const hinted = render('login', { ...login, loginHint: 'hint@example.com' });
    assert.equal(only(hinted, 'input', 'name', 'username').attrs.get('value'), 'hint@example.com');
    assert.ok(only(hinted, 'input', 'name', 'password').attrs.has('autofocus'));
    assert.ok(!only(hinted, 'input', 'name', 'username').attrs.has('autofocus'));

    const both = render('login', { ...login, username: 'typed', loginHint: 'hint@example.com' });
    assert.equal(only(both, 'input', 'name', 'username').attrs.get('value'), 'typed');
  });

  test('the error region exists only with an error, and the inputs point at it', () => {
    for (const error of [undefined, '']) {
      const html = render('login', { ...login, ...(error === undefined ? {} : { error }) });
      assert.doesNotMatch(html, /role="alert"/);
      assert.doesNotMatch(html, /aria-describedby/);
      assert.doesNotMatch(inner(html, tags(html, 'title')[0]!), /Error/);
    }

    const html = render('login', { ...login, error: 'Invalid username or password.' });
    const alerts = tags(html, 'div').filter((t) => t.attrs.get('role') === 'alert');
    assert.equal(alerts.length, 1);
    const id = alerts[0]!.attrs.get('id');
    assert.ok(id);
    assert.equal(inner(html, alerts[0]!), 'Invalid username or password.');
    for (const name of ['username', 'password']) {
      assert.equal(only(html, 'input', 'name', name).attrs.get('aria-describedby'), id);
    }
    assert.match(inner(html, tags(html, 'title')[0]!), /^Error: /);
  });

  test('one "Sign in with <name>" link per SSO connector, and none without connectors', () => {
    assert.doesNotMatch(render('login', login), /Sign in with/);

    const html = render('login', {
      ...login,
      ssoConnectors: [
        { id: 'okta', name: 'Okta', href: '/interaction/uid-1/sso/okta' },
        { id: 'corp', name: 'Corporate SSO', href: '/interaction/uid-1/sso/corp' },
      ],
    });
    const links = tags(html, 'a');
    assert.deepEqual(
      links.map((a) => [a.attrs.get('href'), inner(html, a)]),
      [
        ['/interaction/uid-1/sso/okta', 'Sign in with Okta'],
        ['/interaction/uid-1/sso/corp', 'Sign in with Corporate SSO'],
      ],
    );
    assert.ok(links[0]!.index > tags(html, 'form')[0]!.index, 'SSO links come after the password form');
  });

  test('refuses javascript: URLs for links and form actions', () => {
    assert.throws(() =>
      render('login', { ...login, ssoConnectors: [{ id: 'x', name: 'X', href: 'javascript:alert(1)' }] }),
    );
    assert.throws(() => render('login', { ...login, formAction: 'JavaScript:alert(1)' }));
  });
});

describe('escaping', () => {
  const evil = '<script>alert(1)</script>';
  const escaped = '&lt;script&gt;alert(1)&lt;/script&gt;';

  test('a hostile client name is escaped on every page that shows it', () => {
    const pages = [
      render('login', { ...login, clientName: evil }),
      render('consent', { ...consent, clientName: evil }),
      render('logout', { clientName: evil, formAction: '/session/end/confirm', xsrf: 'x' }),
      render('logged-out', { clientName: evil }),
    ];
    for (const html of pages) {
      assert.ok(html.includes(escaped), 'the escaped name is shown');
      assert.ok(!html.includes(evil), 'the raw markup is not');
      assert.doesNotMatch(withoutOurScript(html), /<script/i);
    }
  });

  test('every other dynamic value is escaped, in text and in attributes', () => {
    const attr = '"><img src=x onerror=alert(1)>';
    const pages = [
      render('login', {
        clientName: 'c',
        formAction: `/login?a=${attr}`,
        csrfToken: attr,
        username: attr,
        error: evil,
        ssoConnectors: [{ id: 'i', name: evil, href: `/sso?x=${attr}` }],
      }),
      render('consent', {
        clientName: 'c',
        scopes: [evil],
        resources: [evil],
        formAction: `/ok?${attr}`,
        cancelAction: `/no?${attr}`,
        csrfToken: attr,
      }),
      render('logout', { formAction: `/end?${attr}`, xsrf: attr }),
      render('error', { title: evil, message: evil, requestId: evil }),
    ];
    const escapedAttr = '&quot;&gt;&lt;img src=x onerror=alert(1)&gt;';
    for (const html of pages) {
      assert.doesNotMatch(withoutOurScript(html), /<script|<img/i);
      for (const tag of tags(html)) {
        assert.ok(
          ![...tag.attrs.keys()].some((a) => /^on/i.test(a)),
          `<${tag.name}> gained an event handler`,
        );
      }
    }
    const [loginPage, consentPage, logoutPage, errorPage] = pages as [string, string, string, string];
    assert.equal(only(loginPage, 'input', 'name', 'csrf').attrs.get('value'), escapedAttr);
    assert.equal(only(loginPage, 'input', 'name', 'username').attrs.get('value'), escapedAttr);
    assert.equal(tags(loginPage, 'form')[0]!.attrs.get('action'), `/login?a=${escapedAttr}`);
    assert.equal(tags(loginPage, 'a')[0]!.attrs.get('href'), `/sso?x=${escapedAttr}`);
    assert.ok(loginPage.includes(`Sign in with ${escaped}`));
    assert.ok(loginPage.includes(`role="alert">${escaped}<`));
    assert.ok(consentPage.includes(`<code>${escaped}</code>`));
    assert.equal(tags(consentPage, 'form')[1]!.attrs.get('action'), `/no?${escapedAttr}`);
    assert.equal(only(logoutPage, 'input', 'name', 'xsrf').attrs.get('value'), escapedAttr);
    assert.equal(inner(errorPage, tags(errorPage, 'h1')[0]!), escaped);
    assert.equal(inner(errorPage, tags(errorPage, 'title')[0]!), `${escaped} – Lock`);
    assert.ok(errorPage.includes(`<code class="reference">${escaped}</code>`));
  });
});

// The one script every page loads: external, from /assets, deferred, with its words as data attributes.
const OUR_SCRIPT = /<script src="\/assets\/lock\.js" defer( data-[a-z]+="[^"<>]*")*><\/script>/g;
const withoutOurScript = (html: string) => html.replace(OUR_SCRIPT, '');

describe('no inline script or style, one stylesheet, one external script', () => {
  for (const [name, html] of everyPage()) {
    test(name, () => {
      assert.equal(html.match(OUR_SCRIPT)?.length, 1, 'lock.js, once');
      assert.doesNotMatch(withoutOurScript(html), /<script/i);
      assert.doesNotMatch(html, /<style/i);
      for (const tag of tags(html)) {
        for (const attr of tag.attrs.keys()) {
          assert.notEqual(attr.toLowerCase(), 'style', `<${tag.name}> has a style attribute`);
          assert.doesNotMatch(attr, /^on/i, `<${tag.name}> has an event handler`);
        }
      }
      const links = tags(html, 'link');
      assert.deepEqual(
        links.map((l) => [l.attrs.get('rel'), l.attrs.get('href')]),
        [['stylesheet', '/assets/lock.css']],
      );
      assert.equal(tags(html, 'html')[0]!.attrs.get('lang'), 'en');
      assert.equal(tags(html, 'h1').length, 1);
      assert.match(inner(html, tags(html, 'title')[0]!), / – Lock$/);
      assert.match(html, />Lock<\/span>/, 'the header names Lock');
    });
  }
});

describe('consent, logout, signed-out and error pages', () => {
  test('consent: Allow and Cancel each POST with the csrf token; scopes and APIs are listed', () => {
    const html = render('consent', consent);
    const forms = tags(html, 'form');
    assert.deepEqual(
      forms.map((f) => [f.attrs.get('method'), f.attrs.get('action')]),
      [
        ['post', '/interaction/uid-1/confirm'],
        ['post', '/interaction/uid-1/abort'],
      ],
    );
    const hidden = tags(html, 'input');
    assert.equal(hidden.length, 2);
    for (const input of hidden) {
      assert.equal(input.attrs.get('name'), 'csrf');
      assert.equal(input.attrs.get('value'), 'csrf-token-2');
    }
    assert.deepEqual(
      tags(html, 'button').map((b) => inner(html, b)),
      ['Allow', 'Cancel'],
    );
    for (const text of [
      'openid',
      'email',
      'payroll:read',
      'https://api.acme.example/payroll',
      'Acme Payroll',
    ]) {
      assert.ok(html.includes(text), text);
    }
  });

  test('logout: one form with xsrf; "Sign out" sends logout=yes, "Stay signed in" sends no logout field', () => {
    const html = render('logout', { formAction: '/session/end/confirm', xsrf: 'secret-1' });
    const forms = tags(html, 'form');
    assert.equal(forms.length, 1);
    assert.equal(forms[0]!.attrs.get('method'), 'post');
    assert.equal(forms[0]!.attrs.get('action'), '/session/end/confirm');
    const xsrf = only(html, 'input', 'name', 'xsrf');
    assert.equal(xsrf.attrs.get('type'), 'hidden');
    assert.equal(xsrf.attrs.get('value'), 'secret-1');
    const [signOut, stay] = tags(html, 'button');
    assert.equal(inner(html, signOut!), 'Sign out');
    assert.equal(signOut!.attrs.get('name'), 'logout');
    assert.equal(signOut!.attrs.get('value'), 'yes');
    assert.equal(inner(html, stay!), 'Stay signed in');
    assert.ok(!stay!.attrs.has('name'));
  });

  test('signed out: says so, with or without a client', () => {
    assert.match(render('logged-out', {}), /You are signed out/);
    assert.match(render('logged-out', { clientName: 'Acme' }), /signed out of <strong[^>]*>Acme<\/strong>/);
  });

  test('error: title, message and the request id for support, only when given', () => {
    const html = render('error', {
      title: 'Request expired',
      message: 'Start again.',
      requestId: 'req-42',
    });
    assert.equal(inner(html, tags(html, 'h1')[0]!), 'Request expired');
    assert.ok(html.includes('Start again.'));
    assert.ok(html.includes('<code class="reference">req-42</code>'));
    assert.doesNotMatch(render('error', { title: 'T', message: 'M' }), /reference/);
  });

  test('error: a way back only as an http(s) link, developer details escaped and folded', () => {
    const evil = '"><script>alert(1)</script>';
    const html = render('error', {
      title: 'T',
      message: 'M',
      back: { href: 'https://app.example.com/', name: evil },
      details: [{ label: 'Redirect URI sent', value: evil }],
    });
    assert.ok(!html.includes('<script>'));
    assert.ok(html.includes('href="https://app.example.com/"'));
    assert.match(html, /<details class="developer-details">\s*<summary>/);
    assert.doesNotMatch(html, /<details[^>]* open/, 'folded');
    assert.throws(
      () => render('error', { title: 'T', message: 'M', back: { href: 'javascript:alert(1)', name: 'x' } }),
      /refusing to render a javascript: URL/,
    );
    assert.doesNotMatch(render('error', { title: 'T', message: 'M' }), /<details|Back to/);
  });
});

describe('Content-Security-Policy', () => {
  test('LOCK_CSP allows our script, stylesheet and forms to ourselves, nothing else', () => {
    assert.equal(
      LOCK_CSP,
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
  });

  test('form-action names the origin (or private scheme) of each place a submission may redirect to', () => {
    assert.match(
      contentSecurityPolicy([
        'https://app.example.com/cb?x=1',
        'https://app.example.com/other',
        'http://localhost:8080/callback',
        'com.example.app:/oauth2redirect',
      ]),
      /; form-action 'self' https:\/\/app\.example\.com http:\/\/localhost:8080 com\.example\.app:; /,
    );
  });

  test('a host CSP cannot express falls back to the scheme; nothing can break out of the directive', () => {
    assert.match(contentSecurityPolicy(['http://[::1]:8080/cb']), /form-action 'self' http:;/);
    const policy = contentSecurityPolicy(['https://a;script-src/cb']);
    assert.equal(
      new URL('https://a;script-src/cb').origin,
      'https://a;script-src',
      'URL lets this host through',
    );
    assert.match(policy, /form-action 'self' https:;/);
    assert.equal(policy.split(';').length, 7);
    assert.deepEqual(policy.match(/script-src[^;]*/g), ["script-src 'self'"], 'only our own directive');
  });

  test('refuses relative URLs and script-capable schemes', () => {
    assert.throws(() => contentSecurityPolicy(['/relative']), TypeError);
    assert.throws(() => contentSecurityPolicy(['javascript:alert(1)']), TypeError);
    assert.throws(() => contentSecurityPolicy(['data:text/html,x']), TypeError);
  });
});

describe('stylesheet', () => {
  const css = readFileSync(`${VIEWS_DIR}assets/lock.css`, 'utf8');

  function palette(block: string): Map<string, string> {
    return new Map([...block.matchAll(/(--[\w-]+):\s*(#[0-9a-f]{6})\b/gi)].map((m) => [m[1]!, m[2]!]));
  }
  function luminance(hex: string): number {
    const [r, g, b] = [1, 3, 5].map((i) => {
      const c = Number.parseInt(hex.slice(i, i + 2), 16) / 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    }) as [number, number, number];
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  }
  function contrast(a: string, b: string): number {
    const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
    return (hi + 0.05) / (lo + 0.05);
  }

  const darkStart = css.indexOf('@media (prefers-color-scheme: dark)');
  const schemes = {
    light: palette(css.slice(0, darkStart)),
    dark: palette(css.slice(darkStart, css.indexOf('}\n}', darkStart))),
  };
  // Text against what it sits on: 4.5:1. Control borders and the focus ring: 3:1 (WCAG 1.4.11).
  const textPairs: Array<[string, string]> = [
    ['--text', '--surface'],
    ['--text', '--bg'],
    ['--muted', '--surface'],
    ['--muted', '--bg'],
    ['--on-primary', '--primary'],
    ['--on-primary', '--primary-hover'],
    ['--text', '--secondary-hover'],
    ['--text', '--field-bg'],
    ['--text', '--code-bg'],
    ['--danger-text', '--danger-bg'],
  ];
  const uiPairs: Array<[string, string]> = [
    ['--field-border', '--surface'],
    ['--field-border', '--field-bg'],
    ['--focus', '--surface'],
    ['--danger-border', '--surface'],
  ];

  for (const [scheme, colours] of Object.entries(schemes)) {
    test(`${scheme} scheme meets the contrast minimums`, () => {
      for (const [pairs, minimum] of [
        [textPairs, 4.5],
        [uiPairs, 3],
      ] as const) {
        for (const [fg, bg] of pairs) {
          const a = colours.get(fg);
          const b = colours.get(bg);
          assert.ok(a && b, `${scheme} defines ${fg} and ${bg}`);
          const ratio = contrast(a, b);
          assert.ok(ratio >= minimum, `${scheme} ${fg} on ${bg}: ${ratio.toFixed(2)} < ${minimum}`);
        }
      }
    });
  }

  test('has focus styles and honours reduced motion', () => {
    assert.match(css, /:focus-visible\s*\{[^}]*outline: 3px solid/);
    assert.match(css, /@media \(prefers-reduced-motion: reduce\)/);
  });
});

describe('serveAssets()', () => {
  let base = '';
  let server: ReturnType<Koa['listen']>;
  const css = readFileSync(`${VIEWS_DIR}assets/lock.css`);

  before(async () => {
    const app = new Koa();
    app.use(serveAssets());
    app.use((ctx) => {
      ctx.body = 'next';
    });
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  test('GET /assets/lock.css: the file, as CSS, cacheable for an hour, with an ETag', async () => {
    const response = await fetch(`${base}/assets/lock.css`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'text/css; charset=utf-8');
    assert.equal(response.headers.get('cache-control'), 'public, max-age=3600');
    assert.match(response.headers.get('etag') ?? '', /^"[\w-]+"$/);
    assert.deepEqual(Buffer.from(await response.arrayBuffer()), css);
  });

  test('304 when If-None-Match matches, 200 when it does not', async () => {
    const etag = (await fetch(`${base}/assets/lock.css`)).headers.get('etag')!;
    for (const header of [etag, `W/${etag}`, `"other", ${etag}`]) {
      const response = await fetch(`${base}/assets/lock.css`, { headers: { 'if-none-match': header } });
      assert.equal(response.status, 304, header);
      assert.equal(await response.text(), '');
    }
    const changed = await fetch(`${base}/assets/lock.css`, { headers: { 'if-none-match': '"stale"' } });
    assert.equal(changed.status, 200);
  });

  test('HEAD works; other methods are refused; nothing else under /assets; other paths pass through', async () => {
    const head = await fetch(`${base}/assets/lock.css`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), String(css.length));

    const post = await fetch(`${base}/assets/lock.css`, { method: 'POST' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET, HEAD');

    for (const path of ['/assets/other.css', '/assets/', '/assets/../package.json', '/assets/lock.css/x']) {
      const response = await fetch(`${base}${path}`);
      assert.notEqual(await response.text(), css.toString(), path);
    }
    assert.equal((await fetch(`${base}/assets/other.css`)).status, 404);
    assert.equal(await (await fetch(`${base}/healthz`)).text(), 'next');
  });
});
