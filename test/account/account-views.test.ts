import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderAccountFragment, renderAccountPage } from '../../src/interactions/account/account-views.ts';
import { LANGUAGES, localeOf } from '../../src/web/i18n.ts';

// Every /account page and section in every shipped language: `lang` set, no catalogue key left as
// text, every value escaped, no script but Lock's own files from /assets (never inline).
const QR = `data:image/svg+xml;base64,${Buffer.from('<svg/>').toString('base64')}`;
const HOSTILE = '<script>alert(1)</script>';
const OUR_SCRIPTS = /<script src="\/assets\/[a-z-]+\.js"( defer)?( data-[a-z]+="[^"<>]*")*><\/script>/g;

const pages: Array<[string, { title: string; error?: string } & Record<string, unknown>]> = [
  [
    'overview',
    {
      title: 'account.title',
      username: HOSTILE,
      connectorName: HOSTILE,
      managedElsewhere: true,
      notice: HOSTILE,
      sections: [{ id: 'password', title: 'Password', html: '<p>fragment</p>' }],
      signOutAction: '/session/end',
      clientId: 'lock-account',
      postLogoutRedirectUri: 'https://lock.example/account',
    },
  ],
  [
    'password-form',
    { title: 'account.password.form_title', username: HOSTILE, csrfToken: 'c', error: HOSTILE },
  ],
  [
    'two-step-enrol',
    {
      title: 'account.two_step.set_up',
      username: HOSTILE,
      qrCode: QR,
      secretGroups: ['ABCD', 'EFGH'],
      enrolment: HOSTILE,
      csrfToken: 'c',
      error: HOSTILE,
    },
  ],
  [
    'recovery-codes',
    { title: 'account.two_step.codes_title', codes: ['aaaa-bbbb-cccc-dddd'], replaced: true },
  ],
];

const fragments: Array<[string, Record<string, unknown>]> = [
  ['password', {}],
  ['two-step', { enrolled: true, since: '2026-12-07 10:00 UTC', recoveryCodesLeft: 3, csrfToken: 'c' }],
  ['two-step', { enrolled: false, csrfToken: 'c' }],
  [
    'sessions',
    {
      csrfToken: 'c',
      sessions: [
        { id: 'a', current: true, device: HOSTILE, details: [HOSTILE] },
        { id: 'b', current: false, device: 'Firefox on Linux', details: [] },
      ],
    },
  ],
  ['sign-ins', { signIns: [{ at: 'now', method: HOSTILE, outcome: 'ok', from: HOSTILE }] }],
  ['sign-ins', { signIns: [] }],
];

describe('/account pages in every shipped language', () => {
  for (const language of LANGUAGES)
    it(`${language}: lang set, no key left as text, values escaped, no script`, () => {
      const locale = localeOf(language);
      const rendered = [
        ...pages.map(([name, data]) => {
          const html = renderAccountPage(name, data, locale);
          assert.match(html, new RegExp(`<html lang="${language}">`), name);
          return [name, html] as const;
        }),
        ...fragments.map(([name, data]) => [name, renderAccountFragment(name, data, locale)] as const),
      ];
      for (const [name, html] of rendered) {
        assert.doesNotMatch(html, /\baccount\.[a-z_]+\.?[a-z_]*/, `${name}: a key left as text`);
        assert.doesNotMatch(
          html.replace(OUR_SCRIPTS, ''),
          /<script/i,
          `${name}: no script but Lock's own, and the hostile value escaped`,
        );
        assert.doesNotMatch(html, /\sstyle=/i, `${name}: no inline style`);
      }
    });
});
