// @ts-check
// Signing in to the console through Lock itself: authorization code + PKCE (S256) with the built-in
// `lock-console` client. Tokens are kept in memory only; sessionStorage holds just the PKCE verifier
// and state during the redirect.

const CLIENT_ID = 'lock-console';
const ORIGIN = location.origin;
const REDIRECT_URI = `${ORIGIN}/admin/callback`;
const RESOURCE = `${ORIGIN}/admin`;
const PENDING = 'lock-console.pending';
const SIGNED_OUT = 'lock-console.signed-out';

/**
 * @typedef {object} Claims
 * @property {string} [sub]
 * @property {string} [name]
 * @property {string} [preferred_username]
 * @property {unknown} [roles]
 */

/** In memory only: gone when the tab is closed or reloaded (a reload signs in again through Lock). */
export const session = {
  accessToken: '',
  idToken: '',
  /** @type {Claims} */ claims: {},
  /** @type {Claims} */ idClaims: {},
};

/** @typedef {{ authorization_endpoint: string, token_endpoint: string, end_session_endpoint: string }} Discovery */
/** @type {Discovery | undefined} */
let discovery;

/** @param {ArrayBuffer | Uint8Array} bytes */
const b64url = (bytes) =>
  btoa(String.fromCharCode(...new Uint8Array(bytes)))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
const randomString = () => b64url(crypto.getRandomValues(new Uint8Array(32)));

/**
 * @param {string} jwt
 * @returns {Claims}
 */
function decodeJwt(jwt) {
  try {
    const part = (jwt.split('.')[1] ?? '').replace(/-/g, '+').replace(/_/g, '/');
    return JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(part), (c) => c.charCodeAt(0))));
  } catch {
    return {};
  }
}

/** @returns {Promise<Discovery>} */
async function loadDiscovery() {
  discovery ??= /** @type {Discovery} */ (await (await fetch('/.well-known/openid-configuration')).json());
  return discovery;
}

export async function signIn() {
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

/** On /admin/callback: checks state, redeems the code and keeps the tokens in memory. */
export async function completeSignIn() {
  const params = new URLSearchParams(location.search);
  /** @type {{ verifier: string, state: string, hash: string } | null} */
  const pending = JSON.parse(sessionStorage.getItem(PENDING) ?? 'null');
  sessionStorage.removeItem(PENDING);
  if (params.get('error'))
    throw new Error(`Sign-in failed: ${params.get('error_description') ?? params.get('error')}`);
  if (!pending || params.get('state') !== pending.state)
    throw new Error('This sign-in response does not belong to this tab. Please sign in again.');
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

export async function signOut() {
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

/** True once after signing out: the console then offers to sign in instead of doing it. */
export function justSignedOut() {
  if (!sessionStorage.getItem(SIGNED_OUT)) return false;
  sessionStorage.removeItem(SIGNED_OUT);
  return true;
}
