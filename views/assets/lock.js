// Progressive enhancement for the sign-in, account and reset pages, served from /assets (the pages'
// CSP allows script-src 'self' and nothing inline). Without it every page works as it does; with it:
//  - a Show/Hide button beside each password field, switching its type between password and text;
//  - Copy and Download buttons under a list of recovery codes (ol.recovery-codes).
// The words come from this <script> element's data attributes, in the page's language.
(() => {
  const words = document.currentScript?.dataset ?? {};
  /** @param {string} key @param {string} fallback */
  const say = (key, fallback) => words[key] || fallback;

  /** @param {HTMLInputElement} input */
  function addReveal(input) {
    if (input.id === '' || input.hidden) return;
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'reveal-toggle';
    button.setAttribute('aria-controls', input.id);
    const set = (/** @type {boolean} */ shown) => {
      input.type = shown ? 'text' : 'password';
      button.textContent = shown ? say('hide', 'Hide') : say('show', 'Show');
      button.setAttribute('aria-pressed', String(shown));
    };
    set(false);
    button.addEventListener('click', () => set(input.type === 'password'));
    // Sent as a password field again, so that the browser offers to save it as one.
    input.form?.addEventListener('submit', () => set(false));
    const row = document.createElement('div');
    row.className = 'reveal';
    input.replaceWith(row);
    row.append(input, button);
  }

  /** @param {HTMLOListElement} list */
  function addCodeActions(list) {
    const codes = [...list.querySelectorAll('code')].map((code) => code.textContent.trim());
    if (codes.length === 0) return;
    const text = `${say('filetitle', 'Recovery codes')} — ${location.host}\n\n${codes.join('\n')}\n`;
    const status = document.createElement('p');
    status.className = 'hint';
    status.setAttribute('role', 'status');
    const copy = button(say('copy', 'Copy codes'), async () => {
      try {
        await navigator.clipboard.writeText(text);
        status.textContent = say('copied', 'Copied.');
      } catch {
        getSelection()?.selectAllChildren(list);
        status.textContent = say('copyfailed', 'Select the codes and copy them.');
      }
    });
    const download = button(say('download', 'Download codes'), () => {
      const url = URL.createObjectURL(new Blob([text], { type: 'text/plain;charset=utf-8' }));
      const link = document.createElement('a');
      link.href = url;
      link.download = `recovery-codes-${location.hostname}.txt`;
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 1000);
      status.textContent = say('downloaded', 'Downloaded.');
    });
    const row = document.createElement('div');
    row.className = 'code-actions';
    row.append(copy, download);
    list.after(row, status);
  }

  /** @param {string} label @param {() => void} onClick */
  function button(label, onClick) {
    const element = document.createElement('button');
    element.type = 'button';
    element.className = 'button button-secondary';
    element.textContent = label;
    element.addEventListener('click', onClick);
    return element;
  }

  const passwords = /** @type {NodeListOf<HTMLInputElement>} */ (
    document.querySelectorAll('input[type="password"]')
  );
  for (const input of passwords) addReveal(input);
  for (const list of /** @type {NodeListOf<HTMLOListElement>} */ (
    document.querySelectorAll('ol.recovery-codes')
  ))
    addCodeActions(list);
})();
