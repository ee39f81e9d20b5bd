// @ts-check
// Registering a passkey on /account/passkeys/add (docs/passkeys.md): options from Lock, then
// navigator.credentials.create() through @simplewebauthn/browser (loaded first from /assets), then
// the answer and the chosen name back to Lock. No inline script: the page's CSP allows Lock's only.
(() => {
  /**
   * @typedef {{
   *   browserSupportsWebAuthn(): boolean,
   *   startRegistration(options: { optionsJSON: unknown }): Promise<unknown>,
   * }} WebAuthnBrowser
   * @typedef {{ message?: string, location?: string }} Answer
   */
  const root = /** @type {HTMLElement | null} */ (document.querySelector('[data-passkey-register]'));
  const webauthn = /** @type {WebAuthnBrowser | undefined} */ (
    /** @type {Record<string, unknown>} */ (/** @type {unknown} */ (globalThis)).SimpleWebAuthnBrowser
  );
  if (!root || !webauthn?.browserSupportsWebAuthn()) return;
  const { optionsUrl = '', registerUrl = '', csrf } = root.dataset;
  const button = /** @type {HTMLButtonElement} */ (root.querySelector('[data-passkey-start]'));
  const errorBox = /** @type {HTMLElement} */ (root.querySelector('[data-passkey-error]'));
  const nameField = /** @type {HTMLInputElement} */ (root.querySelector('#passkey-name'));
  const unsupported = root.querySelector('[data-passkey-unsupported]');
  if (unsupported) unsupported.remove();
  button.hidden = false;

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
      // Not JSON: the generic message below.
    }
    return { ok: response.ok, answer };
  };

  /** @param {string | undefined} [message] */
  const showError = (message) => {
    errorBox.textContent = message || errorBox.dataset.defaultMessage || '';
    errorBox.hidden = false;
  };

  button.addEventListener('click', async () => {
    if (!nameField.reportValidity()) return;
    errorBox.hidden = true;
    button.disabled = true;
    try {
      const options = await post(optionsUrl, {});
      if (!options.ok) {
        if (options.answer.location) window.location.assign(options.answer.location);
        return showError(options.answer.message);
      }
      let response;
      try {
        response = await webauthn.startRegistration({ optionsJSON: options.answer });
      } catch (error) {
        return showError(/** @type {{ message?: string }} */ (error)?.message);
      }
      const registered = await post(registerUrl, { name: nameField.value, response });
      if (registered.ok && registered.answer.location) {
        window.location.assign(registered.answer.location);
        return;
      }
      if (registered.answer.location) window.location.assign(registered.answer.location);
      showError(registered.answer.message);
    } finally {
      button.disabled = false;
    }
  });
})();
