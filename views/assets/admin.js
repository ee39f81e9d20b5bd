// Lock admin console: a small single-page app without a build step. It signs in through Lock itself
// (authorization code + PKCE with the built-in `lock-console` client), keeps its tokens in memory
// only, and manages Lock through the admin REST API (/admin/api/v1).

const CLIENT_ID = 'lock-console';
const ORIGIN = location.origin;
const REDIRECT_URI = `${ORIGIN}/admin/callback`;
const RESOURCE = `${ORIGIN}/admin`;
const API = '/admin/api/v1';
const PENDING = 'lock-console.pending';
const SIGNED_OUT = 'lock-console.signed-out';

/** In memory only: gone when the tab is closed or reloaded (a reload signs in again through Lock). */
const session = { accessToken: '', idToken: '', claims: {}, idClaims: {} };
let discovery;

// ---------------------------------------------------------------- DOM helpers

/** h('tag', { attr, onclick }, ...children): builds elements without ever parsing data as HTML. */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else if (key === 'class') el.className = value;
    else if (value === true) el.setAttribute(key, '');
    else el.setAttribute(key, String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

const main = () => document.getElementById('main');
let fieldCounter = 0;

function show(...content) {
  main().replaceChildren(...content.flat());
}

/** A labelled input; `path` ties it to the API's problem paths. */
function field(label, name, { type = 'text', value = '', hint, path, wide, required, placeholder, options, rows } = {}) {
  const id = `f${++fieldCounter}`;
  const hintId = hint ? `${id}-hint` : undefined;
  let control;
  if (type === 'checkbox') {
    control = h('input', { type: 'checkbox', id, name, checked: Boolean(value), 'data-path': path, 'aria-describedby': hintId });
    return h('div', { class: `field check${wide ? ' wide' : ''}` }, control, h('label', { for: id }, label), hint && h('span', { class: 'hint', id: hintId }, hint));
  }
  if (type === 'select') {
    control = h('select', { id, name, 'data-path': path, 'aria-describedby': hintId },
      options.map(([v, text]) => h('option', { value: v, selected: v === value }, text)));
  } else if (type === 'textarea') {
    control = h('textarea', { id, name, 'data-path': path, rows: rows ?? 4, placeholder, 'aria-describedby': hintId });
    control.value = value ?? '';
  } else {
    control = h('input', { type, id, name, value: value ?? '', 'data-path': path, required, placeholder, 'aria-describedby': hintId, autocomplete: type === 'password' ? 'new-password' : 'off' });
  }
  return h('div', { class: `field${wide ? ' wide' : ''}` }, h('label', { for: id }, label), control, hint && h('span', { class: 'hint', id: hintId }, hint));
}

const formValue = (form, name) => {
  const el = form.elements.namedItem(name);
  if (!el) return undefined;
  if (el.type === 'checkbox') return el.checked;
  return el.value.trim();
};
const list = (text) => (text ?? '').split(/[\n,]/).map((s) => s.trim()).filter(Boolean);

/** Shows an API error (and its field paths) in the form's alert region, marking the fields. */
function showError(region, form, result) {
  for (const el of form?.querySelectorAll('[aria-invalid]') ?? []) el.removeAttribute('aria-invalid');
  const problems = result.data?.problems ?? [];
  for (const problem of problems) {
    const el = form?.querySelector(`[data-path="${CSS.escape(problem.path)}"]`);
    if (el) el.setAttribute('aria-invalid', 'true');
  }
  region.replaceChildren(
    h('div', { class: 'alert error', role: 'alert' },
      h('strong', {}, result.data?.error ?? `The request failed (${result.status}).`),
      problems.length > 0 && h('ul', {}, problems.map((p) => h('li', {}, h('code', {}, p.path || '(body)'), ' ', p.message)))),
  );
}

function showOk(region, ...content) {
  region.replaceChildren(h('div', { class: 'alert ok', role: 'status' }, ...content));
}

function table(headers, rows, empty = 'Nothing here yet.') {
  if (rows.length === 0) return h('p', { class: 'muted' }, empty);
  return h('table', {}, h('thead', {}, h('tr', {}, headers.map((text) => h('th', { scope: 'col' }, text)))), h('tbody', {}, rows));
}

const owner = (managedBy) => (managedBy ? h('span', { class: 'badge', title: managedBy === 'config' ? 'Owned by the declarative file' : 'Built into Lock' }, managedBy) : '');
const codes = (items) => items.flatMap((item, i) => [i > 0 ? ' ' : '', h('code', {}, item)]);

// ---------------------------------------------------------------- API

async function api(method, path, { body, etag, raw } = {}) {
  const headers = { authorization: `Bearer ${session.accessToken}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (etag) headers['if-match'] = etag;
  const response = await fetch(`${API}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (response.status === 401) {
    await signIn();
    return new Promise(() => {});
  }
  let data = null;
  if (raw) data = await response.text();
  else if (response.status !== 204) data = await response.json().catch(() => null);
  return { ok: response.ok, status: response.status, data, etag: response.headers.get('etag') };
}

/** GETs the entity for its ETag, then changes it with If-Match (so nobody's change is overwritten). */
async function withEtag(method, path, body) {
  const current = await api('GET', path);
  if (!current.ok) return current;
  return api(method, path, { body, etag: current.etag });
}

const seg = encodeURIComponent;

// ---------------------------------------------------------------- sign-in (code + PKCE)

const b64url = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const randomString = () => b64url(crypto.getRandomValues(new Uint8Array(32)));
const decodeJwt = (jwt) => {
  try {
    const part = jwt.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    return JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(part), (c) => c.charCodeAt(0))));
  } catch {
    return {};
  }
};

async function loadDiscovery() {
  discovery ??= await (await fetch('/.well-known/openid-configuration')).json();
  return discovery;
}

async function signIn() {
  const config = await loadDiscovery();
  const verifier = randomString();
  const state = randomString();
  const challenge = b64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
  sessionStorage.setItem(PENDING, JSON.stringify({ verifier, state, hash: location.hash || '#/connectors' }));
  const url = new URL(config.authorization_endpoint);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: CLIENT_ID,
    redirect_uri: REDIRECT_URI,
    scope: 'openid profile admin',
    resource: RESOURCE,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state,
  }).toString();
  location.assign(url.toString());
}

async function completeSignIn() {
  const params = new URLSearchParams(location.search);
  const pending = JSON.parse(sessionStorage.getItem(PENDING) ?? 'null');
  sessionStorage.removeItem(PENDING);
  if (params.get('error')) throw new Error(`Sign-in failed: ${params.get('error_description') ?? params.get('error')}`);
  if (!pending || params.get('state') !== pending.state) throw new Error('This sign-in response does not belong to this tab. Please sign in again.');
  const config = await loadDiscovery();
  const response = await fetch(config.token_endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: params.get('code') ?? '',
      redirect_uri: REDIRECT_URI,
      client_id: CLIENT_ID,
      code_verifier: pending.verifier,
    }),
  });
  const tokens = await response.json();
  if (!response.ok) throw new Error(`Sign-in failed: ${tokens.error_description ?? tokens.error}`);
  session.accessToken = tokens.access_token;
  session.idToken = tokens.id_token ?? '';
  session.claims = decodeJwt(tokens.access_token);
  session.idClaims = decodeJwt(session.idToken);
  history.replaceState(null, '', `/admin${pending.hash}`);
}

async function signOut() {
  const config = await loadDiscovery();
  sessionStorage.setItem(SIGNED_OUT, '1');
  const url = new URL(config.end_session_endpoint);
  url.search = new URLSearchParams({
    client_id: CLIENT_ID,
    post_logout_redirect_uri: RESOURCE,
    ...(session.idToken && { id_token_hint: session.idToken }),
  }).toString();
  session.accessToken = '';
  location.assign(url.toString());
}

function renderWho() {
  const name = session.idClaims.preferred_username ?? session.idClaims.name ?? session.claims.sub;
  document.getElementById('who').replaceChildren(
    h('span', {}, 'Signed in as ', h('strong', {}, name)),
    h('button', { type: 'button', onclick: signOut }, 'Sign out'),
  );
}

// ---------------------------------------------------------------- pages

const pages = {};

/** Connectors: list, LDAP form with "Test connection", SAML metadata import and SP metadata. */
pages.connectors = async () => {
  const result = await api('GET', '/connectors');
  const region = h('div');
  const rows = result.data.items.map((c) =>
    h('tr', {},
      h('td', {}, h('code', {}, c.id)),
      h('td', {}, c.name, ' ', owner(c.managedBy)),
      h('td', {}, c.type.toUpperCase()),
      h('td', {}, c.type === 'ldap' ? h('code', {}, c.config.url ?? (c.config.urls ?? []).join(' ')) : c.type === 'saml' ? (c.config.idpMetadataUrl ?? (c.config.idpMetadataXml ? 'metadata XML' : '')) : ''),
      h('td', { class: 'actions' },
        c.type === 'ldap' && h('button', { type: 'button', onclick: () => go(`#/connectors/ldap/${seg(c.id)}`) }, 'Edit'),
        c.type === 'saml' && h('button', { type: 'button', onclick: () => go(`#/connectors/saml/${seg(c.id)}`) }, 'Manage'),
        c.type !== 'local' && h('button', { type: 'button', onclick: () => testSaved(c.id, region) }, 'Test'),
        !c.managedBy && h('button', { type: 'button', class: 'danger', onclick: () => remove(`/connectors/${seg(c.id)}`, `connector ${c.id}`, region) }, 'Delete'),
      ),
    ),
  );
  show(
    h('h1', {}, 'Connectors'),
    h('p', { class: 'muted' }, 'Where people sign in, in login order: the first password connector that knows a user decides.'),
    h('div', { class: 'toolbar' },
      h('button', { type: 'button', class: 'primary', onclick: () => go('#/connectors/ldap/new') }, 'New LDAP connector'),
      h('button', { type: 'button', onclick: () => go('#/connectors/saml/new') }, 'New SAML connector'),
    ),
    region,
    table(['ID', 'Name', 'Type', 'Server / IdP', ''], rows),
  );
};

async function testSaved(id, region) {
  region.replaceChildren(h('p', { class: 'muted', role: 'status' }, `Testing ${id}…`));
  const result = await api('POST', `/connectors/${seg(id)}/test`, { body: {} });
  if (!result.ok) return showError(region, null, result);
  region.replaceChildren(testReport(result.data));
}

function testReport(report) {
  return h('section', { class: `alert ${report.ok ? 'ok' : 'error'}`, role: 'status', 'aria-label': 'Connection test', id: 'test-report' },
    h('strong', {}, report.ok ? 'Connection test passed' : 'Connection test failed'), report.url && [' — ', h('code', {}, report.url)],
    h('ul', { class: 'steps' }, report.steps.map((s) =>
      h('li', { 'data-step': s.step, 'data-ok': String(s.ok) },
        h('span', { class: s.ok ? 'pass' : 'fail' }, s.ok ? '✓ passed' : '✗ failed'),
        h('strong', {}, s.step),
        h('span', {}, s.detail),
        h('span', { class: 'muted' }, `${Math.round(s.durationMs)} ms`)))),
  );
}

pages.ldap = async (id) => {
  const isNew = id === 'new';
  let current = { id: '', name: '', type: 'ldap', config: { startTLS: true, userSearch: {}, groupSearch: {} }, setSecrets: [] };
  let etag;
  if (!isNew) {
    const result = await api('GET', `/connectors/${seg(id)}`);
    if (!result.ok) return show(h('h1', {}, 'Connector'), h('p', { class: 'alert error', role: 'alert' }, result.data?.error ?? 'Not found'));
    current = result.data;
    etag = result.etag;
  }
  const c = current.config;
  const us = c.userSearch ?? {};
  const gs = c.groupSearch ?? {};
  const region = h('div', { 'aria-live': 'polite' });
  const form = h('form', { class: 'panel', novalidate: true },
    h('fieldset', {}, h('legend', {}, 'Connector'),
      h('div', { class: 'grid' },
        isNew ? field('ID', 'id', { path: 'id', hint: 'Letters, digits, _ . : - (appears in tokens as idp)', required: true }) : field('ID', 'id', { value: current.id, path: 'id', hint: 'cannot change' }),
        field('Display name', 'name', { value: current.name, path: 'name', required: true }),
      )),
    h('fieldset', {}, h('legend', {}, 'Server'),
      h('div', { class: 'grid' },
        field('Server URL', 'url', { value: c.url ?? '', path: 'config.url', placeholder: 'ldaps://dc.example.com', hint: 'ldap:// with StartTLS, or ldaps://' }),
        field('Use StartTLS', 'startTLS', { type: 'checkbox', value: c.startTLS, path: 'config.startTLS' }),
        field('Active Directory', 'activeDirectory', { type: 'checkbox', value: c.activeDirectory, path: 'config.activeDirectory' }),
        field('CA certificate file (on the Lock server)', 'caFile', { value: c.caFile ?? '', path: 'config.caFile', hint: 'Optional; or paste the PEM below' }),
        field('CA certificate (PEM)', 'caCert', { type: 'textarea', value: c.caCert ?? '', path: 'config.caCert', wide: true, rows: 3 }),
        field('Bind DN', 'bindDN', { value: c.bindDN ?? '', path: 'config.bindDN', placeholder: 'cn=svc-lock,ou=services,dc=example,dc=com' }),
        field('Bind password', 'bindPassword', { type: 'password', path: 'config.bindPassword', hint: current.setSecrets.includes('bindPassword') ? 'Set — leave empty to keep it' : 'Write-only: never shown again' }),
      )),
    h('fieldset', {}, h('legend', {}, 'User search'),
      h('div', { class: 'grid' },
        field('Base DN', 'userBase', { value: us.baseDN ?? '', path: 'config.userSearch.baseDN', placeholder: 'ou=people,dc=example,dc=com' }),
        field('Filter', 'userFilter', { value: us.filter ?? '', path: 'config.userSearch.filter', placeholder: '(objectClass=person)' }),
        field('Username attributes', 'usernameAttributes', { value: (us.usernameAttributes ?? []).join(', '), path: 'config.userSearch.usernameAttributes', hint: 'Comma-separated; empty for the default (uid, mail / sAMAccountName, userPrincipalName)' }),
      )),
    h('fieldset', {}, h('legend', {}, 'Group search'),
      h('div', { class: 'grid' },
        field('Mode', 'groupMode', { type: 'select', value: c.groupSearch ? (gs.mode ?? '') : 'none', path: 'config.groupSearch.mode', options: [['none', 'No groups'], ['memberOf', 'memberOf attribute'], ['search', 'Search groups'], ['nested', 'Nested groups'], ['adInChain', 'AD in-chain (nested)']] }),
        field('Base DN', 'groupBase', { value: gs.baseDN ?? '', path: 'config.groupSearch.baseDN', placeholder: 'ou=groups,dc=example,dc=com' }),
      )),
    h('fieldset', {}, h('legend', {}, 'Test'),
      h('div', { class: 'grid' }, field('Look up this user (optional)', 'testUser', { hint: 'The test then also searches this user and their groups' }))),
    region,
    h('div', { class: 'buttons' },
      h('button', { type: 'submit', class: 'primary' }, isNew ? 'Create connector' : 'Save connector'),
      h('button', { type: 'button', id: 'test-connection', onclick: () => runTest() }, 'Test connection'),
      h('a', { class: 'button', href: '#/connectors' }, 'Cancel'),
    ),
  );

  const body = () => {
    const config = { ...c };
    const set = (key, value) => {
      if (value === '' || value === undefined) delete config[key];
      else config[key] = value;
    };
    set('url', formValue(form, 'url'));
    config.startTLS = formValue(form, 'startTLS');
    config.activeDirectory = formValue(form, 'activeDirectory');
    set('caFile', formValue(form, 'caFile'));
    set('caCert', formValue(form, 'caCert'));
    set('bindDN', formValue(form, 'bindDN'));
    set('bindPassword', form.elements.namedItem('bindPassword').value);
    const userSearch = { ...us, baseDN: formValue(form, 'userBase') };
    const filter = formValue(form, 'userFilter');
    if (filter) userSearch.filter = filter;
    else delete userSearch.filter;
    const attrs = list(formValue(form, 'usernameAttributes'));
    if (attrs.length > 0) userSearch.usernameAttributes = attrs;
    else delete userSearch.usernameAttributes;
    config.userSearch = userSearch;
    const mode = formValue(form, 'groupMode');
    if (mode === 'none') delete config.groupSearch;
    else {
      config.groupSearch = { ...gs, mode };
      const base = formValue(form, 'groupBase');
      if (base) config.groupSearch.baseDN = base;
      else delete config.groupSearch.baseDN;
    }
    return { id: isNew ? formValue(form, 'id') : current.id, type: 'ldap', name: formValue(form, 'name'), config };
  };

  async function runTest() {
    const button = form.querySelector('#test-connection');
    button.disabled = true;
    region.replaceChildren(h('p', { class: 'muted', role: 'status' }, 'Testing the connection…'));
    const user = formValue(form, 'testUser');
    const result = await api('POST', `/connectors/test${user ? `?username=${seg(user)}` : ''}`, { body: body() });
    button.disabled = false;
    if (!result.ok) return showError(region, form, result);
    region.replaceChildren(testReport(result.data));
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    region.replaceChildren(h('p', { class: 'muted', role: 'status' }, 'Testing and saving…'));
    const result = isNew ? await api('POST', '/connectors', { body: body() }) : await api('PUT', `/connectors/${seg(current.id)}`, { body: body(), etag });
    if (!result.ok) {
      showError(region, form, result);
      if (result.data?.test) region.append(testReport(result.data.test));
      return;
    }
    flash = `Connector ${result.data.id} saved.`;
    go('#/connectors');
  });
  show(h('h1', {}, isNew ? 'New LDAP connector' : `LDAP connector ${current.id}`), form);
};

pages.saml = async (id) => {
  const isNew = id === 'new';
  const region = h('div', { 'aria-live': 'polite' });
  if (isNew) {
    const form = h('form', { class: 'panel', novalidate: true },
      h('div', { class: 'grid' },
        field('ID', 'id', { path: 'id', required: true }),
        field('Display name', 'name', { path: 'name', required: true, hint: 'The login page shows “Sign in with <name>”' }),
        field('IdP metadata URL', 'metadataUrl', { type: 'url', path: 'config.idpMetadataUrl', wide: true }),
        field('…or IdP metadata XML', 'metadataXml', { type: 'textarea', path: 'config.idpMetadataXml', wide: true, rows: 6 }),
        field('Groups attribute', 'groupsAttribute', { path: 'config.groupsAttribute', hint: 'The assertion attribute that lists the user’s groups' }),
      ),
      region,
      h('div', { class: 'buttons' }, h('button', { type: 'submit', class: 'primary' }, 'Create connector'), h('a', { class: 'button', href: '#/connectors' }, 'Cancel')),
    );
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const config = {};
      if (formValue(form, 'metadataUrl')) config.idpMetadataUrl = formValue(form, 'metadataUrl');
      if (formValue(form, 'metadataXml')) config.idpMetadataXml = formValue(form, 'metadataXml');
      if (formValue(form, 'groupsAttribute')) config.groupsAttribute = formValue(form, 'groupsAttribute');
      const result = await api('POST', '/connectors', { body: { id: formValue(form, 'id'), type: 'saml', name: formValue(form, 'name'), config } });
      if (!result.ok) return showError(region, form, result);
      flash = `Connector ${result.data.id} created.`;
      go(`#/connectors/saml/${seg(result.data.id)}`);
    });
    return show(h('h1', {}, 'New SAML connector'), form);
  }
  const result = await api('GET', `/connectors/${seg(id)}`);
  if (!result.ok) return show(h('h1', {}, 'Connector'), h('p', { class: 'alert error', role: 'alert' }, result.data?.error ?? 'Not found'));
  const c = result.data;
  const form = h('form', { class: 'panel', novalidate: true },
    h('h2', {}, 'Import IdP metadata'),
    h('div', { class: 'grid' },
      field('Metadata URL', 'url', { type: 'url', path: 'url', value: c.config.idpMetadataUrl ?? '', wide: true }),
      field('…or metadata XML', 'xml', { type: 'textarea', path: 'xml', wide: true, rows: 6 }),
    ),
    region,
    h('div', { class: 'buttons' }, h('button', { type: 'submit', class: 'primary' }, 'Import metadata')),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const xml = formValue(form, 'xml');
    const imported = await api('POST', `/connectors/${seg(id)}/idp-metadata`, { body: xml ? { xml } : { url: formValue(form, 'url') }, etag: result.etag });
    if (!imported.ok) return showError(region, form, imported);
    showOk(region, 'IdP metadata imported.');
  });
  const download = h('button', {
    type: 'button',
    onclick: async () => {
      const metadata = await api('GET', `/connectors/${seg(id)}/sp-metadata`, { raw: true });
      if (!metadata.ok) return showError(region, form, metadata);
      const link = h('a', { href: URL.createObjectURL(new Blob([metadata.data], { type: 'application/samlmetadata+xml' })), download: `lock-sp-metadata-${id}.xml` });
      link.click();
    },
  }, 'Download SP metadata');
  show(
    h('h1', {}, `SAML connector ${c.id}`), h('p', {}, c.name, ' ', owner(c.managedBy)),
    h('section', { class: 'panel' }, h('h2', {}, 'Lock as the service provider'), h('p', { class: 'muted' }, 'Give this metadata to the IdP’s administrator.'), download),
    form,
    h('a', { class: 'button', href: '#/connectors' }, 'Back to connectors'),
  );
};

/** Clients: list, create (the secret shown once), rotate the secret, delete. */
pages.clients = async () => {
  const result = await api('GET', '/clients');
  const region = h('div', { 'aria-live': 'polite' });
  const showSecret = (clientId, secret, where = region) => showOk(where, 'Secret of ', h('code', {}, clientId), ' — copy it now, it is not shown again: ', h('span', { class: 'secret', id: 'client-secret' }, secret));
  const rows = result.data.items.map((c) =>
    h('tr', {},
      h('td', {}, h('code', {}, c.clientId), ' ', owner(c.managedBy)),
      h('td', {}, c.name ?? ''),
      h('td', {}, c.public ? 'public' : 'confidential'),
      h('td', {}, c.grantTypes.join(', ')),
      h('td', {}, codes(c.redirectUris)),
      h('td', {}, c.roles.join(', ')),
      h('td', { class: 'actions' },
        !c.public && !c.managedBy && h('button', {
          type: 'button',
          onclick: async () => {
            if (!confirm(`Rotate the secret of ${c.clientId}? The old one stops working at once.`)) return;
            const rotated = await withEtag('POST', `/clients/${seg(c.clientId)}/secret`);
            if (!rotated.ok) return showError(region, null, rotated);
            showSecret(c.clientId, rotated.data.clientSecret);
          },
        }, 'Rotate secret'),
        !c.managedBy && h('button', { type: 'button', class: 'danger', onclick: () => remove(`/clients/${seg(c.clientId)}`, `client ${c.clientId}`, region) }, 'Delete'),
      )),
  );
  const form = h('form', { class: 'panel', novalidate: true },
    h('h2', {}, 'New client'),
    h('div', { class: 'grid' },
      field('Client ID', 'clientId', { path: 'clientId', required: true }),
      field('Name', 'name', { path: 'name' }),
      field('Public client (PKCE, no secret)', 'public', { type: 'checkbox', path: 'public' }),
      field('First-party (no consent screen)', 'firstParty', { type: 'checkbox', path: 'firstParty' }),
      field('Grant types', 'grantTypes', { value: 'authorization_code, refresh_token', path: 'grantTypes', hint: 'authorization_code, refresh_token, client_credentials, urn:ietf:params:oauth:grant-type:token-exchange' }),
      field('Roles (client credentials)', 'roles', { path: 'roles', hint: 'Comma-separated' }),
      field('Redirect URIs', 'redirectUris', { type: 'textarea', path: 'redirectUris', hint: 'One per line', rows: 2 }),
      field('Post-logout redirect URIs', 'postLogoutRedirectUris', { type: 'textarea', path: 'postLogoutRedirectUris', rows: 2 }),
      field('APIs (resources)', 'resources', { type: 'textarea', path: 'resources', rows: 2, hint: 'One per line' }),
      field('Introspects tokens of', 'introspects', { type: 'textarea', path: 'introspects', rows: 2, hint: 'APIs this client (a gateway) may introspect tokens for; one per line' }),
      field('Exchanges tokens meant for', 'subjectAudiences', { type: 'textarea', path: 'tokenExchange', rows: 2, hint: 'Token exchange (RFC 8693): the audiences of callers\' tokens it may swap for its APIs; one per line' }),
    ),
    h('div', { class: 'buttons' }, h('button', { type: 'submit', class: 'primary' }, 'Create client')),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = {
      clientId: formValue(form, 'clientId'),
      public: formValue(form, 'public'),
      firstParty: formValue(form, 'firstParty'),
      grantTypes: list(formValue(form, 'grantTypes')),
      redirectUris: list(formValue(form, 'redirectUris')),
      postLogoutRedirectUris: list(formValue(form, 'postLogoutRedirectUris')),
      roles: list(formValue(form, 'roles')),
      resources: list(formValue(form, 'resources')),
      introspects: list(formValue(form, 'introspects')),
    };
    if (formValue(form, 'name')) body.name = formValue(form, 'name');
    const subjectAudiences = list(formValue(form, 'subjectAudiences'));
    if (subjectAudiences.length > 0) body.tokenExchange = { subjectAudiences };
    const created = await api('POST', '/clients', { body });
    if (!created.ok) return showError(region, form, created);
    await pages.clients();
    if (created.data.clientSecret) showSecret(created.data.clientId, created.data.clientSecret, regionRef);
    else flashNow(`Client ${created.data.clientId} created.`);
  });
  show(h('h1', {}, 'Clients'), region, table(['Client ID', 'Name', 'Type', 'Grant types', 'Redirect URIs', 'Roles', ''], rows), form);
  regionRef = region;
};

/** APIs (resources): the audiences Lock issues access tokens for. */
pages.apis = async () => {
  const result = await api('GET', '/resources');
  const region = h('div', { 'aria-live': 'polite' });
  const rows = result.data.items.map((r) =>
    h('tr', {},
      h('td', {}, h('code', {}, r.id), ' ', owner(r.managedBy)),
      h('td', {}, r.scopes.join(' ')),
      h('td', {}, r.roles.join(', ')),
      h('td', {}, r.roleClaim ? h('code', {}, r.roleClaim) : ''),
      h('td', {}, r.accessTokenFormat === 'opaque' ? 'opaque' : r.signingAlg),
      h('td', {}, `${r.accessTokenTTL} s`),
      h('td', { class: 'actions' }, !r.managedBy && h('button', { type: 'button', class: 'danger', onclick: () => remove(`/resources/${seg(r.id)}`, `API ${r.id}`, region) }, 'Delete'))),
  );
  const form = h('form', { class: 'panel', novalidate: true },
    h('h2', {}, 'New API'),
    h('div', { class: 'grid' },
      field('Identifier (audience URL)', 'id', { type: 'url', path: 'id', placeholder: 'https://api.example.com', required: true }),
      field('Scopes', 'scopes', { path: 'scopes', hint: 'Comma-separated' }),
      field('Roles in its tokens', 'roles', { path: 'roles', hint: 'Comma-separated' }),
      field('Role claim (optional)', 'roleClaim', { path: 'roleClaim', hint: 'A single-string claim, e.g. role for PostgREST' }),
      field('Default role', 'defaultRole', { path: 'defaultRole' }),
      field('Access token lifetime (s)', 'accessTokenTTL', { type: 'number', value: '300', path: 'accessTokenTTL' }),
      field('Signing algorithm', 'signingAlg', { type: 'select', value: 'RS256', path: 'signingAlg', options: [['RS256', 'RS256'], ['ES256', 'ES256'], ['EdDSA', 'EdDSA']] }),
      field('Access token format', 'accessTokenFormat', { type: 'select', value: 'jwt', path: 'accessTokenFormat', options: [['jwt', 'JWT (verified offline with the JWKS)'], ['opaque', 'Opaque (introspected)']] }),
    ),
    h('div', { class: 'buttons' }, h('button', { type: 'submit', class: 'primary' }, 'Create API')),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = { id: formValue(form, 'id'), scopes: list(formValue(form, 'scopes')), roles: list(formValue(form, 'roles')), accessTokenTTL: Number(formValue(form, 'accessTokenTTL')), signingAlg: formValue(form, 'signingAlg'), accessTokenFormat: formValue(form, 'accessTokenFormat') };
    if (formValue(form, 'roleClaim')) body.roleClaim = formValue(form, 'roleClaim');
    if (formValue(form, 'defaultRole')) body.defaultRole = formValue(form, 'defaultRole');
    const created = await api('POST', '/resources', { body });
    if (!created.ok) return showError(region, form, created);
    flash = `API ${created.data.id} created.`;
    await route();
  });
  show(h('h1', {}, 'APIs'), region, table(['Identifier', 'Scopes', 'Roles', 'Role claim', 'Token', 'Token lifetime', ''], rows), form);
  regionRef = region;
};

/** Roles and role mappings (upstream group → roles). */
pages.roles = async () => {
  const [roles, mappings, connectors] = await Promise.all([api('GET', '/roles'), api('GET', '/role-mappings'), api('GET', '/connectors')]);
  const region = h('div', { 'aria-live': 'polite' });
  const roleRows = roles.data.items.map((r) =>
    h('tr', {}, h('td', {}, String(r.position)), h('td', {}, h('code', {}, r.name), ' ', owner(r.managedBy)), h('td', {}, r.description ?? ''),
      h('td', { class: 'actions' }, !r.managedBy && r.name !== 'lock_admin' && h('button', { type: 'button', class: 'danger', onclick: () => remove(`/roles/${seg(r.name)}`, `role ${r.name}`, region) }, 'Delete'))),
  );
  const mappingRows = mappings.data.items.map((m) =>
    h('tr', {}, h('td', {}, h('code', {}, m.connector)), h('td', {}, m.group), h('td', {}, m.roles.join(', '), ' ', owner(m.managedBy)),
      h('td', { class: 'actions' }, !m.managedBy && h('button', { type: 'button', class: 'danger', onclick: () => remove(`/role-mappings/${seg(m.connector)}/${seg(m.group)}`, `mapping of ${m.group}`, region) }, 'Delete'))),
  );
  const roleForm = h('form', { class: 'panel', novalidate: true, 'aria-label': 'New role' },
    h('h2', {}, 'New role'),
    h('div', { class: 'grid' }, field('Role name', 'name', { path: 'name', required: true }), field('Description', 'description', { path: 'description' })),
    h('div', { class: 'buttons' }, h('button', { type: 'submit', class: 'primary' }, 'Create role')),
  );
  roleForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = { name: formValue(roleForm, 'name') };
    if (formValue(roleForm, 'description')) body.description = formValue(roleForm, 'description');
    const created = await api('POST', '/roles', { body });
    if (!created.ok) return showError(region, roleForm, created);
    flash = `Role ${created.data.name} created.`;
    await route();
  });
  const mappingForm = h('form', { class: 'panel', novalidate: true, 'aria-label': 'New role mapping' },
    h('h2', {}, 'New role mapping'),
    h('div', { class: 'grid' },
      field('Connector', 'connector', { type: 'select', path: 'connector', value: '*', options: [['*', 'Any connector (*)'], ...connectors.data.items.map((c) => [c.id, `${c.name} (${c.id})`])] }),
      field('Upstream group', 'group', { path: 'group', required: true, hint: 'The group name as the connector reports it' }),
      field('Roles', 'roles', { path: 'roles', hint: `Comma-separated: ${roles.data.items.map((r) => r.name).join(', ')}` }),
    ),
    h('div', { class: 'buttons' }, h('button', { type: 'submit', class: 'primary' }, 'Create mapping')),
  );
  mappingForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = { connector: formValue(mappingForm, 'connector'), group: formValue(mappingForm, 'group'), roles: list(formValue(mappingForm, 'roles')) };
    const created = await api('POST', '/role-mappings', { body });
    if (!created.ok) return showError(region, mappingForm, created);
    flash = `Group ${created.data.group} now maps to ${created.data.roles.join(', ')}.`;
    await route();
  });
  show(
    h('h1', {}, 'Roles & mappings'), region,
    h('h2', {}, 'Roles (in priority order)'), table(['#', 'Name', 'Description', ''], roleRows),
    h('h2', {}, 'Role mappings'), table(['Connector', 'Group', 'Roles', ''], mappingRows, 'No role mappings yet.'),
    mappingForm, roleForm,
  );
  regionRef = region;
};

/** Local users (search, create, disable/enable) and groups. */
pages.users = async () => {
  const search = new URLSearchParams(location.hash.split('?')[1] ?? '').get('search') ?? '';
  const [users, groups] = await Promise.all([api('GET', `/users?limit=100${search ? `&search=${seg(search)}` : ''}`), api('GET', '/groups')]);
  const region = h('div', { 'aria-live': 'polite' });
  const userRows = users.data.items.map((u) =>
    h('tr', {},
      h('td', {}, h('strong', {}, u.username), ' ', owner(u.managedBy)),
      h('td', {}, u.name ?? ''), h('td', {}, u.email ?? ''),
      h('td', {}, u.groups.join(', ')), h('td', {}, u.effectiveRoles.join(', ')),
      h('td', {}, u.disabled ? h('span', { class: 'fail' }, 'disabled') : 'active'),
      h('td', { class: 'actions' },
        h('button', {
          type: 'button',
          onclick: async () => {
            const changed = await api('POST', `/users/${seg(u.id)}/${u.disabled ? 'enable' : 'disable'}`);
            if (!changed.ok) return showError(region, null, changed);
            flash = `${u.username} ${u.disabled ? 'enabled' : 'disabled'}.`;
            await route();
          },
        }, u.disabled ? 'Enable' : 'Disable'))),
  );
  const searchForm = h('form', { class: 'toolbar', role: 'search' },
    field('Search users', 'search', { type: 'search', value: search }),
    h('button', { type: 'submit' }, 'Search'));
  searchForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const text = formValue(searchForm, 'search');
    go(`#/users${text ? `?search=${seg(text)}` : ''}`);
  });
  const userForm = h('form', { class: 'panel', novalidate: true, 'aria-label': 'New user' },
    h('h2', {}, 'New local user'),
    h('div', { class: 'grid' },
      field('Username', 'username', { path: 'username', required: true }),
      field('Full name', 'name', { path: 'name' }),
      field('Email', 'email', { type: 'email', path: 'email' }),
      field('Password', 'password', { type: 'password', path: 'password' }),
      field('Groups', 'groups', { path: 'groups', hint: 'Comma-separated' }),
      field('Roles', 'roles', { path: 'roles', hint: 'Granted directly; comma-separated' }),
    ),
    h('div', { class: 'buttons' }, h('button', { type: 'submit', class: 'primary' }, 'Create user')),
  );
  userForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = { username: formValue(userForm, 'username'), groups: list(formValue(userForm, 'groups')), roles: list(formValue(userForm, 'roles')) };
    for (const key of ['name', 'email']) if (formValue(userForm, key)) body[key] = formValue(userForm, key);
    if (userForm.elements.namedItem('password').value) body.password = userForm.elements.namedItem('password').value;
    const created = await api('POST', '/users', { body });
    if (!created.ok) return showError(region, userForm, created);
    flash = `User ${created.data.username} created.`;
    await route();
  });
  const groupRows = groups.data.items.map((g) =>
    h('tr', {}, h('td', {}, g.name, ' ', owner(g.managedBy)), h('td', {}, String(g.memberCount)),
      h('td', { class: 'actions' }, !g.managedBy && h('button', { type: 'button', class: 'danger', onclick: () => remove(`/groups/${seg(g.name)}`, `group ${g.name}`, region) }, 'Delete'))),
  );
  const groupForm = h('form', { class: 'panel', novalidate: true, 'aria-label': 'New group' },
    h('h2', {}, 'New group'),
    h('div', { class: 'grid' }, field('Group name', 'name', { path: 'name', required: true })),
    h('div', { class: 'buttons' }, h('button', { type: 'submit', class: 'primary' }, 'Create group')),
  );
  groupForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    const created = await api('POST', '/groups', { body: { name: formValue(groupForm, 'name') } });
    if (!created.ok) return showError(region, groupForm, created);
    flash = `Group ${created.data.name} created.`;
    await route();
  });
  show(
    h('h1', {}, 'Users & groups'), region, searchForm,
    h('h2', {}, 'Local users'), table(['Username', 'Name', 'Email', 'Groups', 'Roles', 'Status', ''], userRows, 'No users match.'),
    userForm,
    h('h2', {}, 'Groups'), table(['Name', 'Members', ''], groupRows, 'No groups yet.'),
    groupForm,
  );
  regionRef = region;
};

/** Signing keys: list and rotate. */
pages.keys = async () => {
  const result = await api('GET', '/keys');
  const region = h('div', { 'aria-live': 'polite' });
  const when = (iso) => (iso ? new Date(iso).toLocaleString() : '');
  const rows = result.data.items.map((k) =>
    h('tr', {}, h('td', {}, h('code', {}, k.kid)), h('td', {}, k.alg), h('td', {}, h('span', { class: 'badge' }, k.state)), h('td', {}, when(k.createdAt)), h('td', {}, when(k.activatesAt)), h('td', {}, when(k.unpublishAt))),
  );
  const rotate = h('button', {
    type: 'button',
    class: 'primary',
    onclick: async () => {
      if (!confirm('Add the next signing keys? They are published now and sign after the JWKS cache lifetime.')) return;
      const rotated = await api('POST', '/keys/rotate', { body: {} });
      if (!rotated.ok) return showError(region, null, rotated);
      flash = 'New signing keys published.';
      await route();
    },
  }, 'Rotate keys');
  show(h('h1', {}, 'Signing keys'), h('div', { class: 'toolbar' }, rotate), region, table(['Key ID', 'Algorithm', 'State', 'Created', 'Signs from', 'Unpublished at'], rows));
  regionRef = region;
};

/** Audit log: newest first, filtered by type, paged. */
pages.audit = async () => {
  const type = new URLSearchParams(location.hash.split('?')[1] ?? '').get('type') ?? '';
  const region = h('div', { 'aria-live': 'polite' });
  const tbody = h('tbody');
  const more = h('button', { type: 'button', hidden: true }, 'Load more');
  let cursor = null;
  const load = async () => {
    const query = new URLSearchParams({ limit: '50' });
    if (type) query.set('type', type);
    if (cursor) query.set('cursor', cursor);
    const result = await api('GET', `/audit-events?${query}`);
    if (!result.ok) return showError(region, filter, result);
    for (const e of result.data.items) {
      const changes = (e.details?.changes ?? []).map((c) => c.path).join(', ');
      tbody.append(h('tr', {},
        h('td', {}, new Date(e.at).toLocaleString()),
        h('td', {}, h('code', {}, e.type)),
        h('td', {}, h('span', { class: e.outcome === 'success' ? 'pass' : 'fail' }, e.outcome)),
        h('td', {}, e.actor ?? ''),
        h('td', {}, [e.subject, e.connector && `via ${e.connector}`, e.clientId && `client ${e.clientId}`].filter(Boolean).join(' · ')),
        h('td', {}, [e.reason, changes && `changed: ${changes}`].filter(Boolean).join(' — '))));
    }
    cursor = result.data.next ?? null;
    more.hidden = !cursor;
  };
  more.addEventListener('click', load);
  const filter = h('form', { class: 'toolbar', role: 'search' },
    field('Event type', 'type', { value: type, placeholder: 'admin.* or login.success', hint: 'Exact, or a prefix ending in *' }),
    h('button', { type: 'submit' }, 'Filter'));
  filter.addEventListener('submit', (event) => {
    event.preventDefault();
    const text = formValue(filter, 'type');
    go(`#/audit${text ? `?type=${seg(text)}` : ''}`);
  });
  show(h('h1', {}, 'Audit log'), filter, region,
    h('table', {}, h('thead', {}, h('tr', {}, ['Time', 'Type', 'Outcome', 'Actor', 'Subject', 'Details'].map((t) => h('th', { scope: 'col' }, t)))), tbody),
    h('div', { class: 'buttons' }, more));
  await load();
};

// ---------------------------------------------------------------- shared actions and routing

let flash = '';
let regionRef = null;

function flashNow(text) {
  if (regionRef) showOk(regionRef, text);
}

async function remove(path, what, region) {
  if (!confirm(`Delete ${what}?`)) return;
  const result = await withEtag('DELETE', path);
  if (!result.ok) return showError(region, null, result);
  flash = `Deleted ${what}.`;
  await route();
}

function go(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

async function route() {
  const hash = location.hash.replace(/^#\/?/, '').split('?')[0] || 'connectors';
  const [section, kind, id] = hash.split('/');
  for (const link of document.querySelectorAll('nav a')) {
    if (link.getAttribute('href') === `#/${section}`) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  regionRef = null;
  const page = section === 'connectors' && kind ? () => pages[kind]?.(decodeURIComponent(id ?? 'new')) : pages[section];
  if (!page) return show(h('h1', {}, 'Not found'), h('p', {}, 'This page does not exist.'));
  const message = flash;
  flash = '';
  await page();
  document.title = `${main().querySelector('h1')?.textContent ?? 'Console'} · Lock admin`;
  if (message) {
    const region = regionRef ?? main().querySelector('[aria-live]');
    if (region) showOk(region, message);
    else main().prepend(h('div', { class: 'alert ok', role: 'status' }, message));
  }
  main().focus();
}

function fatal(message, ...actions) {
  show(h('div', { class: 'center' }, h('section', { class: 'panel' }, h('h1', {}, message[0]), h('p', {}, message[1]), h('div', { class: 'buttons' }, ...actions))));
}

async function start() {
  try {
    if (location.pathname === '/admin/callback') await completeSignIn();
  } catch (error) {
    return fatal(['Sign-in did not complete', error.message], h('button', { type: 'button', class: 'primary', onclick: signIn }, 'Sign in again'));
  }
  if (!session.accessToken) {
    if (sessionStorage.getItem(SIGNED_OUT)) {
      sessionStorage.removeItem(SIGNED_OUT);
      return fatal(['You are signed out', 'Sign in again to manage Lock.'], h('button', { type: 'button', class: 'primary', onclick: signIn }, 'Sign in'));
    }
    return signIn();
  }
  renderWho();
  const roles = Array.isArray(session.claims.roles) ? session.claims.roles : [];
  if (!roles.includes('lock_admin')) {
    return fatal(
      ['You need the lock_admin role', 'You are signed in, but your account does not hold the lock_admin role that the admin console requires. Ask a Lock administrator to grant it, then sign in again.'],
      h('button', { type: 'button', class: 'primary', onclick: signOut }, 'Sign out'),
    );
  }
  document.getElementById('nav').hidden = false;
  window.addEventListener('hashchange', () => route());
  await route();
}

start();
