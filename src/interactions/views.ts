// Server-rendered pages of the login flow: eta templates in views/, one shared layout, every `<%= %>`
// escaped. Templates are read and compiled once, when this module is imported; rendering is
// synchronous and touches no file. Every word a page shows comes from the message catalogue
// (src/web/i18n.ts, views/locales/) in the locale the caller chose (src/web/locale.ts).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Eta } from 'eta/core';
import { around, type Locale, type MessageValues, type Translate } from '../web/i18n.ts';

export type ViewName =
  | 'login'
  | 'consent'
  | 'logout'
  | 'logged-out'
  | 'error'
  | 'totp-enrol'
  | 'totp-verify'
  | 'totp-recovery-codes'
  | 'device-code'
  | 'device-confirm'
  | 'device-approved'
  | 'reset-request'
  | 'reset-password'
  | 'verify-email';

export interface LoginView {
  clientName: string;
  formAction: string;
  csrfToken: string;
  username?: string;
  error?: string;
  loginHint?: string;
  ssoConnectors: Array<{ id: string; name: string; href: string }>;
  /** "Forgot your password?" (docs/email.md): only with mail on and Lock's own accounts enabled. */
  resetHref?: string;
  /** "Sign in with a passkey" and the username field's autofill (docs/passkeys.md): its JSON endpoints. */
  passkey?: PasskeyEndpoints;
}

/** Where a page's passkey script fetches its options and sends its assertion (with the page's CSRF token). */
export interface PasskeyEndpoints {
  optionsUrl: string;
  verifyUrl: string;
}

export interface ConsentView {
  clientName: string;
  scopes: string[];
  resources: string[];
  formAction: string;
  cancelAction: string;
  csrfToken: string;
}

/** oidc-provider's logout form: POST to formAction with `xsrf`, and `logout=yes` only for "Sign out". */
export interface LogoutView {
  clientName?: string;
  formAction: string;
  xsrf: string;
}

export interface LoggedOutView {
  clientName?: string;
}

/** The error page, its words already in the page's language (sendErrorPage, error-page.ts, chooses them). */
export interface ErrorView {
  title: string;
  message: string;
  requestId?: string;
  /** A way back: the client's home, when the client is known and vouched for. */
  back?: { href: string; name: string };
  /** For the application's developers, in a collapsed block: label and value (error code, client id, …). */
  details?: Array<{ label: string; value: string }>;
}

/** Enrolment of an authenticator app: the QR code, the same secret in text, and a code to confirm it. */
export interface TotpEnrolView {
  username: string;
  /** `data:image/svg+xml;base64,…` of the QR code of `otpauthUri`. */
  qrCode: string;
  /** Base32, for typing into an app by hand. */
  secret: string;
  otpauthUri: string;
  formAction: string;
  csrfToken: string;
  restartHref: string;
  error?: string;
}

/** The second step of a sign-in: a code from the app, or a recovery code, or a passkey. */
export interface TotpVerifyView {
  username: string;
  formAction: string;
  csrfToken: string;
  restartHref: string;
  error?: string;
  /** Offered when the account has a passkey. */
  passkey?: PasskeyEndpoints;
  /** Whether a code is taken (false: the account has no app, or only a passkey may finish). Default true. */
  codes?: boolean;
}

/** The recovery codes, shown once (`codes` empty when the page is shown again). */
export interface TotpRecoveryCodesView {
  codes: string[];
  formAction: string;
  csrfToken: string;
}

/** The device page (RFC 8628): a form that POSTs `xsrf` and `user_code`; `notice` after a denial. */
export interface DeviceCodeView {
  formAction: string;
  xsrf: string;
  userCode?: string;
  error?: string;
  notice?: string;
}

/** "Is this your device?": the client, the code to compare; Continue (`confirm`) or Deny (`abort`). */
export interface DeviceConfirmView {
  formAction: string;
  xsrf: string;
  userCode: string;
  clientName: string;
}

export interface DeviceApprovedView {
  clientName: string;
}

/** The password-reset request form (`/reset`), or its one answer (`sent`), the same for every name. */
export interface ResetRequestView {
  formAction: string;
  sent: boolean;
  minutes: number;
  error?: string;
}

/** The form behind a reset link, or the page after it (`done`). */
export interface ResetPasswordView {
  formAction: string;
  done: boolean;
  minLength: number;
  error?: string;
}

/** The button behind a verification link (a POST: mail scanners that open links confirm nothing). */
export interface VerifyEmailView {
  formAction: string;
  done: boolean;
}

export interface ViewData {
  login: LoginView;
  consent: ConsentView;
  logout: LogoutView;
  'logged-out': LoggedOutView;
  error: ErrorView;
  'totp-enrol': TotpEnrolView;
  'totp-verify': TotpVerifyView;
  'totp-recovery-codes': TotpRecoveryCodesView;
  'device-code': DeviceCodeView;
  'device-confirm': DeviceConfirmView;
  'device-approved': DeviceApprovedView;
  'reset-request': ResetRequestView;
  'reset-password': ResetPasswordView;
  'verify-email': VerifyEmailView;
}

/** Where the layout links the stylesheet; `serveAssets()` answers it. */
export const STYLESHEET_PATH = '/assets/lock.css';

/** The pages' one script (show-password, copy/download of recovery codes): the layout loads it with `defer`. */
export const SCRIPT_PATH = '/assets/lock.js';

/** The views directory (templates and views/assets/). */
export const VIEWS_DIR = fileURLToPath(new URL('../../views/', import.meta.url));

const eta = new Eta({ autoEscape: true, cache: true });
eta.loadTemplate('@layout', readFileSync(`${VIEWS_DIR}layout.eta`, 'utf8'));
for (const name of [
  'login',
  'consent',
  'logout',
  'logged-out',
  'error',
  'totp-enrol',
  'totp-verify',
  'totp-recovery-codes',
  'device-code',
  'device-confirm',
  'device-approved',
  'reset-request',
  'reset-password',
  'verify-email',
] satisfies ViewName[]) {
  eta.loadTemplate(`@${name}`, readFileSync(`${VIEWS_DIR}${name}.eta`, 'utf8'));
}

/**
 * Renders one page of the login flow to a complete HTML document (synchronous), in `locale`
 * (`localeFor(ctx, uiLocales)` of src/web/locale.ts). Templates read their words with
 * `it.t('page.key', { values })`, a message with markup around a value with
 * `it.around('page.key', 'name', { values })`, and the layout sets `<html lang>` from `it.lang`.
 */
export function renderView(name: 'login', data: LoginView, locale: Locale): string;
export function renderView(name: 'consent', data: ConsentView, locale: Locale): string;
export function renderView(name: 'logout', data: LogoutView, locale: Locale): string;
export function renderView(name: 'logged-out', data: LoggedOutView, locale: Locale): string;
export function renderView(name: 'error', data: ErrorView, locale: Locale): string;
export function renderView(name: 'totp-enrol', data: TotpEnrolView, locale: Locale): string;
export function renderView(name: 'totp-verify', data: TotpVerifyView, locale: Locale): string;
export function renderView(name: 'totp-recovery-codes', data: TotpRecoveryCodesView, locale: Locale): string;
export function renderView<N extends ViewName>(name: N, data: ViewData[N], locale: Locale): string;
export function renderView(name: ViewName, data: ViewData[ViewName], locale: Locale): string {
  const prepare = PAGES[name] as (data: ViewData[ViewName], t: Translate) => { title: string };
  const { t } = locale;
  return eta.render(`@${name}`, {
    ...prepare(data, t),
    stylesheet: STYLESHEET_PATH,
    lang: locale.language,
    t,
    around: (key: string, placeholder: string, values?: MessageValues) => around(t, key, placeholder, values),
  });
}

/** The document's <title>: the page's own, "Error: " first when it shows one (a screen reader hears it at once). */
function pageTitle(t: Translate, page: string, error?: string): string {
  return t('layout.title', { page: error === undefined ? page : t('layout.error_title', { page }) });
}

// What each template receives: the caller's data checked and shaped, plus the page's <title>.
const PAGES: { [N in ViewName]: (data: ViewData[N], t: Translate) => { title: string } } = {
  login: (data, t) => {
    const username = data.username ?? data.loginHint ?? '';
    const error = nonEmpty(data.error);
    return {
      title: pageTitle(t, t('login.title', { client: data.clientName }), error),
      clientName: data.clientName,
      formAction: safeUrl(data.formAction),
      csrfToken: data.csrfToken,
      username,
      error,
      // A known username (retyped after an error, or a login_hint) leaves only the password to type.
      focus: username === '' ? 'username' : 'password',
      ssoConnectors: data.ssoConnectors.map((c) => ({ name: c.name, href: safeUrl(c.href) })),
      passkey: passkeyOf(data.passkey),
      passkeyScripts: PASSKEY_SCRIPTS,
      resetHref: data.resetHref === undefined ? undefined : safeUrl(data.resetHref),
    };
  },
  consent: (data, t) => ({
    title: pageTitle(t, t('consent.title', { client: data.clientName })),
    clientName: data.clientName,
    scopes: data.scopes.map((scope) => describeScope(t, scope)),
    resources: data.resources,
    formAction: safeUrl(data.formAction),
    cancelAction: safeUrl(data.cancelAction),
    csrfToken: data.csrfToken,
  }),
  logout: (data, t) => ({
    title: pageTitle(t, t('logout.title')),
    clientName: nonEmpty(data.clientName),
    formAction: safeUrl(data.formAction),
    xsrf: data.xsrf,
  }),
  'logged-out': (data, t) => ({
    title: pageTitle(t, t('logged_out.title')),
    clientName: nonEmpty(data.clientName),
  }),
  error: (data, t) => ({
    title: pageTitle(t, data.title),
    heading: data.title,
    message: data.message,
    requestId: nonEmpty(data.requestId),
    back: data.back && { href: safeUrl(data.back.href), name: data.back.name },
    details: data.details ?? [],
  }),
  'totp-enrol': (data, t) => {
    const error = nonEmpty(data.error);
    if (!data.qrCode.startsWith('data:image/svg+xml;base64,'))
      throw new TypeError('the QR code must be an SVG data URL');
    if (!data.otpauthUri.startsWith('otpauth://totp/')) throw new TypeError('not an otpauth://totp/ URI');
    return {
      title: pageTitle(t, t('totp.enrol.title'), error),
      username: data.username,
      qrCode: data.qrCode,
      // Groups of four are easier to type into an app by hand; apps ignore the spaces.
      secretGroups: data.secret.match(/.{1,4}/g) ?? [],
      otpauthUri: data.otpauthUri,
      formAction: safeUrl(data.formAction),
      csrfToken: data.csrfToken,
      restartHref: safeUrl(data.restartHref),
      error,
    };
  },
  'totp-verify': (data, t) => {
    const error = nonEmpty(data.error);
    const codes = data.codes ?? true;
    return {
      title: pageTitle(t, codes ? t('totp.verify.title') : t('passkey.step.heading'), error),
      heading: codes ? t('totp.verify.heading') : t('passkey.step.heading'),
      codes,
      passkey: passkeyOf(data.passkey),
      passkeyScripts: PASSKEY_SCRIPTS,
      username: data.username,
      formAction: safeUrl(data.formAction),
      csrfToken: data.csrfToken,
      restartHref: safeUrl(data.restartHref),
      error,
    };
  },
  'totp-recovery-codes': (data, t) => ({
    title: pageTitle(t, t('totp.recovery.title')),
    codes: data.codes,
    formAction: safeUrl(data.formAction),
    csrfToken: data.csrfToken,
  }),
  'device-code': (data, t) => {
    const error = nonEmpty(data.error);
    return {
      title: pageTitle(t, t('device.code.title'), error),
      formAction: safeUrl(data.formAction),
      xsrf: data.xsrf,
      userCode: data.userCode ?? '',
      error,
      notice: nonEmpty(data.notice),
    };
  },
  'device-confirm': (data, t) => ({
    title: pageTitle(t, t('device.confirm.title')),
    formAction: safeUrl(data.formAction),
    xsrf: data.xsrf,
    userCode: data.userCode,
    clientName: data.clientName,
  }),
  'device-approved': (data, t) => ({
    title: pageTitle(t, t('device.approved.title')),
    clientName: data.clientName,
  }),
  'reset-request': (data, t) => {
    const error = nonEmpty(data.error);
    return {
      title: pageTitle(t, t('reset.title'), error),
      formAction: safeUrl(data.formAction),
      sent: data.sent,
      minutes: data.minutes,
      error,
    };
  },
  'reset-password': (data, t) => {
    const error = nonEmpty(data.error);
    return {
      title: pageTitle(t, t(data.done ? 'reset.done_title' : 'reset.new_title'), error),
      formAction: safeUrl(data.formAction),
      done: data.done,
      minLength: data.minLength,
      error,
    };
  },
  'verify-email': (data, t) => ({
    title: pageTitle(t, t(data.done ? 'verify_email.done_title' : 'verify_email.title')),
    formAction: safeUrl(data.formAction),
    done: data.done,
  }),
};

// What the standard OpenID Connect scopes let a client do, in words (`consent.scopes.*`); other scopes show their name.
const STANDARD_SCOPES = new Set(['openid', 'profile', 'email', 'phone', 'address', 'offline_access']);

export function describeScope(t: Translate, scope: string): { name: string; label: string } {
  return {
    name: scope,
    label: STANDARD_SCOPES.has(scope) ? t(`consent.scopes.${scope}`) : t('consent.scopes.other', { scope }),
  };
}

/** The browser library (@simplewebauthn/browser's bundle) and Lock's script that drives it; serveAssets() answers both. */
export const PASSKEY_SCRIPTS = ['/assets/simplewebauthn-browser.js', '/assets/passkey.js'] as const;

function passkeyOf(endpoints: PasskeyEndpoints | undefined): PasskeyEndpoints | undefined {
  return endpoints && { optionsUrl: safeUrl(endpoints.optionsUrl), verifyUrl: safeUrl(endpoints.verifyUrl) };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

/** Form actions and links are ours to build, but a `javascript:` or `data:` URL is refused outright. */
function safeUrl(value: string): string {
  const { protocol } = new URL(value, 'http://relative.invalid');
  if (protocol !== 'http:' && protocol !== 'https:')
    throw new TypeError(`refusing to render a ${protocol} URL`);
  return value;
}

// ---------------------------------------------------------------------------------------------
// Content-Security-Policy for these pages.
//
// `form-action` is checked by Chromium and Safari against every hop of the redirect chain that
// follows a form submission, not only the form's own action. The login, consent and logout forms
// POST to Lock, which answers with redirects that end at the client's redirect_uri (or
// post_logout_redirect_uri). So a page whose form can lead back to a client must name that
// client's origin: `contentSecurityPolicy([redirectUri])`. LOCK_CSP (form-action 'self' alone) is
// for pages whose forms never leave Lock, or that have no form at all.

/** Source expressions for `form-action` that allow a redirect to `uri` after a form submission. */
export function formActionSource(uri: string): string {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new TypeError(`form-action: not an absolute URL: ${JSON.stringify(uri)}`);
  }
  const scheme = url.protocol.toLowerCase();
  if (!/^[a-z][a-z0-9+.-]*:$/.test(scheme) || UNSAFE_SCHEMES.has(scheme)) {
    throw new TypeError(`form-action: refusing scheme ${JSON.stringify(scheme)}`);
  }
  if (scheme !== 'http:' && scheme !== 'https:') return scheme; // a native app's private-use scheme
  // CSP host-sources have no syntax for IPv6 literals (or '_' in a name): the scheme alone is the
  // narrowest expression that still matches. Anything else odd (';', spaces) never reaches the header.
  return /^https?:\/\/[a-z0-9-]+(\.[a-z0-9-]+)*(:\d{1,5})?$/.test(url.origin) ? url.origin : scheme;
}

const UNSAFE_SCHEMES = new Set(['javascript:', 'data:', 'blob:', 'filesystem:', 'file:', 'about:']);

/**
 * The page policy: nothing but our stylesheet and script (and images from us or data: URLs), no framing, no
 * <base>, forms only to Lock itself plus the places `extraFormActions` (full URLs: redirect_uri,
 * post_logout_redirect_uri) may send the browser after a submission.
 */
export function contentSecurityPolicy(
  extraFormActions: readonly string[],
  options: { scripts?: boolean } = {},
): string {
  const formAction = ["'self'", ...new Set(extraFormActions.map(formActionSource))];
  return [
    "default-src 'none'",
    // Every page runs Lock's own scripts from /assets (never inline); pages that offer a passkey also call Lock.
    "script-src 'self'",
    ...(options.scripts ? ["connect-src 'self'"] : []),
    "style-src 'self'",
    "img-src 'self' data:",
    `form-action ${formAction.join(' ')}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
}

/** The policy for pages with no form, or whose forms never redirect away from Lock. */
export const LOCK_CSP = contentSecurityPolicy([]);
