// @ts-check
// The console's shell: signs in, checks for lock_admin, shows who is signed in, and draws the page
// the location hash names (#/connectors, #/connectors/ldap/<id>, #/users?search=…).
import { LoadError } from './api.js';
import { completeSignIn, justSignedOut, session, signIn, signOut } from './auth.js';
import { h, main, show, showOk } from './dom.js';
import { errorState, loadingState } from './lists.js';
import { beginDrawing, state } from './navigation.js';
import { apisPage } from './pages/apis.js';
import { auditPage } from './pages/audit.js';
import { clientsPage } from './pages/clients.js';
import { connectorsPage } from './pages/connectors.js';
import { oauth2Page, oidcPage } from './pages/federation.js';
import { keysPage } from './pages/keys.js';
import { ldapPage } from './pages/ldap.js';
import { rolesPage } from './pages/roles.js';
import { samlPage } from './pages/saml.js';
import { userDetailPage } from './pages/user-detail.js';
import { usersPage } from './pages/users.js';

/** @typedef {import('./navigation.js').Drawing} Drawing */

/** @type {Record<string, (draw: Drawing) => Promise<void>>} */
const PAGES = {
  connectors: connectorsPage,
  clients: clientsPage,
  apis: apisPage,
  roles: rolesPage,
  users: usersPage,
  keys: keysPage,
  audit: auditPage,
};

/** Connector forms by type: #/connectors/<type>/<id or new>. */
/** @type {Record<string, (draw: Drawing, id: string) => Promise<void>>} */
const CONNECTOR_PAGES = { ldap: ldapPage, saml: samlPage, oidc: oidcPage, oauth2: oauth2Page };

/** @param {string | undefined} section */
function sectionTitle(section) {
  const link = [...document.querySelectorAll('nav a')].find((a) => a.getAttribute('href') === `#/${section}`);
  return link?.textContent ?? 'Lock admin';
}

async function route() {
  const hash = location.hash.replace(/^#\/?/, '').split('?')[0] || 'connectors';
  const [section, kind, id] = hash.split('/');
  for (const link of document.querySelectorAll('nav a')) {
    if (link.getAttribute('href') === `#/${section}`) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  state.region = null;
  const connectorPage = kind ? CONNECTOR_PAGES[kind] : undefined;
  /** @type {((draw: Drawing) => Promise<void>) | undefined} */
  const page =
    section === 'connectors' && kind
      ? connectorPage && ((draw) => connectorPage(draw, decodeURIComponent(id ?? 'new')))
      : section === 'users' && kind
        ? (draw) => userDetailPage(draw, decodeURIComponent(kind))
        : PAGES[section ?? ''];
  // A page still loading when the person moves on draws nothing (beginDrawing).
  const drawing = beginDrawing();
  if (!page) return drawing.show(h('h1', {}, 'Not found'), h('p', {}, 'This page does not exist.'));
  const message = state.flash;
  state.flash = '';
  // The previous page goes at once: a page that cannot load must not leave the last one on screen.
  drawing.show(loadingState());
  try {
    await page(drawing);
  } catch (error) {
    if (!drawing.isCurrent()) return;
    const result =
      error instanceof LoadError
        ? error.result
        : { status: 0, data: { error: error instanceof Error ? error.message : String(error) } };
    show(
      h('h1', {}, sectionTitle(section)),
      errorState(result, () => route()),
    );
    document.title = 'Couldn’t load · Lock admin';
    main().focus({ preventScroll: true });
    window.scrollTo(0, 0);
    return;
  }
  if (!drawing.isCurrent()) return;
  document.title = `${main().querySelector('h1')?.textContent ?? 'Console'} · Lock admin`;
  if (message) {
    const region = state.region ?? main().querySelector('[aria-live]');
    if (region instanceof HTMLElement) showOk(region, message);
    else main().prepend(h('div', { class: 'alert ok', role: 'status' }, message));
  }
  main().focus({ preventScroll: true });
  window.scrollTo(0, 0);
}

/**
 * @param {[string, string]} message heading and text
 * @param {HTMLElement[]} actions
 */
function fatal([heading, text], ...actions) {
  show(
    h(
      'div',
      { class: 'center' },
      h(
        'section',
        { class: 'panel' },
        h('h1', {}, heading),
        h('p', {}, text),
        h('div', { class: 'buttons' }, ...actions),
      ),
    ),
  );
}

function renderWho() {
  const name = session.idClaims.preferred_username ?? session.idClaims.name ?? session.claims.sub;
  /** @type {HTMLElement} */ (document.getElementById('who')).replaceChildren(
    h('span', {}, 'Signed in as ', h('strong', {}, name)),
    h('button', { type: 'button', onclick: signOut }, 'Sign out'),
  );
}

export async function startConsole() {
  try {
    if (location.pathname === '/admin/callback') await completeSignIn();
  } catch (error) {
    return fatal(
      ['Sign-in did not complete', error instanceof Error ? error.message : String(error)],
      h('button', { type: 'button', class: 'primary', onclick: signIn }, 'Sign in again'),
    );
  }
  if (!session.accessToken) {
    if (justSignedOut())
      return fatal(
        ['You are signed out', 'Sign in again to manage Lock.'],
        h('button', { type: 'button', class: 'primary', onclick: signIn }, 'Sign in'),
      );
    return signIn();
  }
  renderWho();
  const roles = Array.isArray(session.claims.roles) ? session.claims.roles : [];
  if (!roles.includes('lock_admin')) {
    return fatal(
      [
        'You need the lock_admin role',
        'You are signed in, but your account does not hold the lock_admin role that the admin console requires. Ask a Lock administrator to grant it, then sign in again.',
      ],
      h('button', { type: 'button', class: 'primary', onclick: signOut }, 'Sign out'),
    );
  }
  state.route = route;
  /** @type {HTMLElement} */ (document.getElementById('nav')).hidden = false;
  window.addEventListener('hashchange', () => route());
  await route();
}
