// @ts-check
// Signing keys: list with their state, and rotate.
import { api, expectOk } from '../api.js';
import { h, showError, table } from '../dom.js';
import { flash, route } from '../navigation.js';

/** @param {string | null | undefined} iso */
const when = (iso) => (iso ? new Date(iso).toLocaleString() : '');

/** @param {import('../navigation.js').Drawing} draw */
export async function keysPage(draw) {
  const { items } = expectOk(await api('listSigningKeys'));
  const region = h('div', { 'aria-live': 'polite' });
  const rows = items.map((k) =>
    h(
      'tr',
      {},
      h('td', {}, h('code', {}, k.kid)),
      h('td', {}, k.alg),
      h('td', {}, h('span', { class: 'badge' }, k.state)),
      h('td', {}, when(k.createdAt)),
      h('td', {}, when(k.activatesAt)),
      h('td', {}, when(k.unpublishAt)),
    ),
  );
  const rotate = h(
    'button',
    {
      type: 'button',
      class: 'primary',
      onclick: async () => {
        if (
          !confirm(
            'Add the next signing keys? They are published now and sign after the JWKS cache lifetime.',
          )
        )
          return;
        const rotated = await api('rotateSigningKeys', { body: {} });
        if (!rotated.ok) return showError(region, null, rotated);
        flash('New signing keys published.');
        await route();
      },
    },
    'Rotate keys',
  );
  draw.show(
    h('h1', {}, 'Signing keys'),
    h('div', { class: 'toolbar' }, rotate),
    region,
    table(['Key ID', 'Algorithm', 'State', 'Created', 'Signs from', 'Unpublished at'], rows),
  );
  draw.setRegion(region);
}
