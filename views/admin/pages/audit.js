// @ts-check
// Audit log: newest first, filtered by type, paged with "Load more".
import { api } from '../api.js';
import { field, formValue, h, show, showError } from '../dom.js';
import { go, hashQuery } from '../navigation.js';

export async function auditPage() {
  const type = hashQuery().get('type') ?? '';
  const region = h('div', { 'aria-live': 'polite' });
  const tbody = h('tbody');
  const more = h('button', { type: 'button', hidden: true }, 'Load more');
  /** @type {string | null} */
  let cursor = null;
  const load = async () => {
    const result = await api('listAuditEvents', {
      query: { limit: 50, ...(type && { type }), ...(cursor && { cursor }) },
    });
    if (!result.ok) return showError(region, filter, result);
    for (const e of result.data.items) {
      const details = /** @type {{ changes?: Array<{ path: string }> }} */ (e.details ?? {});
      const changes = (details.changes ?? []).map((c) => c.path).join(', ');
      tbody.append(
        h(
          'tr',
          {},
          h('td', {}, new Date(e.at).toLocaleString()),
          h('td', {}, h('code', {}, e.type)),
          h('td', {}, h('span', { class: e.outcome === 'success' ? 'pass' : 'fail' }, e.outcome)),
          h('td', {}, e.actor ?? ''),
          h(
            'td',
            {},
            [e.subject, e.connector && `via ${e.connector}`, e.clientId && `client ${e.clientId}`]
              .filter(Boolean)
              .join(' · '),
          ),
          h('td', {}, [e.reason, changes && `changed: ${changes}`].filter(Boolean).join(' — ')),
        ),
      );
    }
    cursor = result.data.next ?? null;
    more.hidden = !cursor;
  };
  more.addEventListener('click', load);
  const filter = h(
    'form',
    { class: 'toolbar', role: 'search' },
    field('Event type', 'type', {
      value: type,
      placeholder: 'admin.* or login.success',
      hint: 'Exact, or a prefix ending in *',
    }),
    h('button', { type: 'submit' }, 'Filter'),
  );
  filter.addEventListener('submit', (event) => {
    event.preventDefault();
    const text = formValue(filter, 'type');
    go(`#/audit${text ? `?type=${encodeURIComponent(text)}` : ''}`);
  });
  show(
    h('h1', {}, 'Audit log'),
    filter,
    region,
    h(
      'table',
      {},
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['Time', 'Type', 'Outcome', 'Actor', 'Subject', 'Details'].map((t) => h('th', { scope: 'col' }, t)),
        ),
      ),
      tbody,
    ),
    h('div', { class: 'buttons' }, more),
  );
  await load();
}
