// @ts-check
// Audit log: sign-ins and failures per hour over the last week (inline SVG), filters for actor,
// time range, event type and outcome (kept in the URL), newest first a page at a time, and the
// same filters exported as CSV by the server.
import { api, expectOk } from '../api.js';
import { signInChart } from '../chart.js';
import { field, formValue, h, showError } from '../dom.js';
import { pagedList } from '../lists.js';
import { go, hashQuery } from '../navigation.js';

/** @typedef {import('../openapi').Operations['listAuditEvents']['response']['items'][number]} AuditEvent */
/** @typedef {import('../openapi').Operations['exportAuditEvents']['query']} AuditFilter */

const FILTERS = /** @type {const} */ (['actor', 'from', 'to', 'type', 'outcome']);

/** The filters in the URL (from/to as the datetime-local fields hold them) as the API's query. */
function apiFilter(/** @type {URLSearchParams} */ params) {
  /** @type {AuditFilter} */
  const filter = {};
  const actor = params.get('actor');
  const type = params.get('type');
  const outcome = params.get('outcome');
  if (actor) filter.actor = actor;
  if (type) filter.type = type;
  if (outcome === 'success' || outcome === 'failure' || outcome === 'error') filter.outcome = outcome;
  for (const bound of /** @type {const} */ (['from', 'to'])) {
    const value = params.get(bound);
    const at = value ? new Date(value) : null;
    if (at && !Number.isNaN(at.getTime())) filter[bound] = at.toISOString();
  }
  return filter;
}

/** @param {AuditEvent} e */
function subjectOf(e) {
  return [
    e.subjectName ?? e.subject,
    e.connector && `via ${e.connector}`,
    e.clientId && `client ${e.clientId}`,
  ]
    .filter(Boolean)
    .join(' · ');
}

/** @param {AuditEvent} e */
function detailsOf(e) {
  const details = /** @type {{ changes?: Array<{ path: string }>, count?: number }} */ (e.details ?? {});
  const changes = (details.changes ?? []).map((c) => c.path).join(', ');
  return [
    e.reason,
    changes && `changed: ${changes}`,
    details.count && details.count > 1 && `${details.count} times`,
  ]
    .filter(Boolean)
    .join(' — ');
}

/** @param {import('../navigation.js').Drawing} draw */
export async function auditPage(draw) {
  const params = hashQuery();
  const filter = apiFilter(params);
  const chartData = expectOk(await api('signInsPerHour'));
  const region = h('div', { 'aria-live': 'polite' });
  const filtered = FILTERS.some((name) => params.get(name));

  const form = h(
    'form',
    { class: 'panel filters', role: 'search', 'aria-label': 'Filter events', novalidate: true },
    h(
      'div',
      { class: 'grid' },
      field('Actor', 'actor', {
        value: params.get('actor') ?? '',
        path: 'actor',
        hint: 'A username, a client ID, cli or config',
      }),
      field('Event type', 'type', {
        value: params.get('type') ?? '',
        path: 'type',
        placeholder: 'admin.* or login.password',
        hint: 'Exact, or a prefix ending in *',
      }),
      field('Outcome', 'outcome', {
        type: 'select',
        path: 'outcome',
        value: params.get('outcome') ?? '',
        options: [
          ['', 'Any'],
          ['success', 'Success'],
          ['failure', 'Failure'],
          ['error', 'Error'],
        ],
      }),
      field('From', 'from', { type: 'datetime-local', value: params.get('from') ?? '', path: 'from' }),
      field('Until', 'to', { type: 'datetime-local', value: params.get('to') ?? '', path: 'to' }),
    ),
    h(
      'div',
      { class: 'buttons' },
      h('button', { type: 'submit', class: 'primary' }, 'Filter'),
      filtered && h('button', { type: 'button', onclick: () => go('#/audit') }, 'Clear filters'),
      h('button', { type: 'button', onclick: () => exportCsv(filter, region) }, 'Export CSV'),
    ),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const next = new URLSearchParams();
    for (const name of FILTERS) {
      const value = formValue(form, name);
      if (value) next.set(name, value);
    }
    go(`#/audit${next.size > 0 ? `?${next}` : ''}`);
  });

  /** @type {Array<import('../lists.js').Column<AuditEvent>>} */
  const columns = [
    { label: 'Time', cell: (e) => h('time', { datetime: e.at }, new Date(e.at).toLocaleString()) },
    { label: 'Event', cell: (e) => h('code', {}, e.type) },
    {
      label: 'Outcome',
      cell: (e) => h('span', { class: e.outcome === 'success' ? 'pass' : 'fail' }, e.outcome),
    },
    {
      label: 'Actor',
      cell: (e) =>
        e.actorName
          ? h('span', { title: e.actor ?? '' }, e.actorName)
          : h('span', { class: 'id' }, e.actor ?? ''),
    },
    { label: 'Subject', cell: (e) => subjectOf(e) },
    { label: 'Address', kind: 'id', cell: (e) => e.ip ?? '' },
    { label: 'Details', cell: (e) => detailsOf(e) },
  ];
  const list = pagedList({
    columns,
    caption: 'Audit events',
    limit: 50,
    load: ({ cursor, limit }) =>
      api('listAuditEvents', { query: { ...filter, limit, ...(cursor && { cursor }) } }),
    empty: filtered ? 'No events match these filters.' : 'No events yet.',
  });
  draw.show(
    h('h1', {}, 'Audit log'),
    signInChart(chartData, 'Sign-ins and failures per hour, last 7 days'),
    h('h2', {}, 'Events'),
    form,
    region,
    list,
  );
  await list.loaded;
}

/**
 * Downloads the server's CSV of the filtered events (the token goes in a header, so the file is
 * fetched and handed to the browser as a Blob).
 * @param {AuditFilter} filter
 * @param {HTMLElement} region
 */
async function exportCsv(filter, region) {
  const result = await api('exportAuditEvents', { query: filter });
  if (!result.ok) return showError(region, null, result);
  const url = URL.createObjectURL(new Blob([String(result.data)], { type: 'text/csv' }));
  const link = h('a', { href: url, download: 'lock-audit.csv' });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
  region.replaceChildren(h('p', { class: 'muted', role: 'status' }, 'Exported lock-audit.csv.'));
}
