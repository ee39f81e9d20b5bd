// @ts-check
// Lock's passkey ceremonies in the browser (docs/passkeys.md). The page names its endpoints and
// CSRF token in data attributes of the element [data-passkey]; @simplewebauthn/browser (served
// as /assets/simplewebauthn-browser.js, loaded first) talks to navigator.credentials. No inline
// script anywhere: the pages' Content-Security-Policy allows scripts from Lock's origin only.
(() => {
  /**
   * @typedef {{
   *   browserSupportsWebAuthn(): boolean,
   *   browserSupportsWebAuthnAutofill(): Promise<boolean>,
   *   startAuthentication(options: { optionsJSON: unknown, useBrowserAutofill?: boolean }): Promise<unknown>,
   * }} WebAuthnBrowser
   * @typedef {{ message?: string, location?: string }} Answer
   */
  const root = /** @type {HTMLElement | null} */ (document.querySelector('[data-passkey]'));
  const webauthn = /** @type {WebAuthnBrowser | undefined} */ (
    /** @type {Record<string, unknown>} */ (/** @type {unknown} */ (globalThis)).SimpleWebAuthnBrowser
  );
  if (!root || !webauthn?.browserSupportsWebAuthn()) return;
  const { optionsUrl = '', verifyUrl = '', autofill } = root.dataset;
  // The page's CSRF token: the element's own, or the one of the page's form (the login form).
  const csrf =
    root.dataset.csrf ??
    /** @type {HTMLInputElement | null} */ (document.querySelector('form input[name="csrf"]'))?.value;
  const button = /** @type {HTMLButtonElement | null} */ (root.querySelector('[data-passkey-start]'));
  const errorBox = /** @type {HTMLElement | null} */ (root.querySelector('[data-passkey-error]'));

  /**
   * @param {string} url
   * @param {Record<string, unknown>} body
   * @returns {Promise<{ ok: boolean, answer: Answer }>}
   */
  const post = async (url, body) => {
    const response = await fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ csrf, ...body }),
    });
    /** @type {Answer} */
    let answer = {};
    try {
      answer = await response.json();
    } catch {
      // An HTML error page (the sign-in expired): the page's own message says enough.
    }
    return { ok: response.ok, answer };
  };

  /** @param {string | undefined} [message] */
  const showError = (message) => {
    if (!errorBox) return;
    errorBox.textContent = message || errorBox.dataset.defaultMessage || '';
    errorBox.hidden = false;
  };

  /** @param {boolean} useBrowserAutofill */
  const ceremony = async (useBrowserAutofill) => {
    const options = await post(optionsUrl, {});
    if (!options.ok) return showError(options.answer.message);
    let response;
    try {
      response = await webauthn.startAuthentication({ optionsJSON: options.answer, useBrowserAutofill });
    } catch (error) {
      // The person closed the dialog, or a newer ceremony (the button) replaced this one.
      if (useBrowserAutofill || /** @type {{ name?: string }} */ (error)?.name === 'AbortError') return;
      return showError(errorBox?.dataset.cancelledMessage);
    }
    const verified = await post(verifyUrl, { response });
    if (verified.ok && typeof verified.answer.location === 'string') {
      window.location.assign(verified.answer.location);
      return;
    }
    showError(verified.answer.message);
    if (autofill === 'true') autofillCeremony();
  };

  const autofillCeremony = async () => {
    if (await webauthn.browserSupportsWebAuthnAutofill()) ceremony(true).catch(() => {});
  };

  if (button) {
    button.hidden = false;
    button.addEventListener('click', (event) => {
      event.preventDefault();
      ceremony(false).catch(() => showError());
    });
  }
  if (autofill === 'true') autofillCeremony();
})();
