// @ts-check
// A bar chart of sign-ins and failures per hour, drawn as inline SVG (no library): one stacked bar
// per hour that had events, a baseline with a label per day, a caption, and the same numbers as a
// table for screen readers and for reading exact values.
import { h } from './dom.js';
import { dataTable } from './lists.js';

const SVG = 'http://www.w3.org/2000/svg';
const WIDTH = 840;
const HEIGHT = 240;
const TOP = 30;
const BOTTOM = 30;

/**
 * @param {string} tag
 * @param {Record<string, string | number>} attrs
 * @param {Array<Node | string>} children
 */
function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, String(value));
  el.append(...children);
  return el;
}

/** @typedef {{ hour: string, successes: number, failures: number }} Hour */

/** @param {string} iso */
const hourLabel = (iso) =>
  new Date(iso).toLocaleString(undefined, {
    weekday: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
  });

/**
 * @param {{ from: string, to: string, hours: Hour[] }} data every hour of the range, oldest first
 * @param {string} caption
 */
export function signInChart(data, caption) {
  const { hours } = data;
  const max = Math.max(1, ...hours.map((hour) => hour.successes + hour.failures));
  const slot = WIDTH / Math.max(1, hours.length);
  const plot = HEIGHT - TOP - BOTTOM;
  const scale = (/** @type {number} */ count) => (count / max) * plot;
  const captionId = `chart${Math.random().toString(36).slice(2)}`;
  const bars = hours.flatMap((hour, i) => {
    if (hour.successes + hour.failures === 0) return [];
    const x = (i * slot + slot * 0.1).toFixed(2);
    const width = Math.max(1, slot * 0.8).toFixed(2);
    const ok = scale(hour.successes);
    const fail = scale(hour.failures);
    const title = `${hourLabel(hour.hour)}: ${hour.successes} sign-ins, ${hour.failures} failures`;
    return [
      svg(
        'g',
        { class: 'bar', 'data-hour': hour.hour },
        svg('title', {}, title),
        svg('rect', { class: 'bar-ok', x, width, y: (TOP + plot - ok).toFixed(2), height: ok.toFixed(2) }),
        svg('rect', {
          class: 'bar-fail',
          x,
          width,
          y: (TOP + plot - ok - fail).toFixed(2),
          height: fail.toFixed(2),
        }),
      ),
    ];
  });
  // A tick and a label at each midnight (local time) of the range.
  const ticks = hours.flatMap((hour, i) => {
    const at = new Date(hour.hour);
    if (at.getHours() !== 0) return [];
    const x = (i * slot).toFixed(2);
    return [
      svg('line', { class: 'axis', x1: x, x2: x, y1: TOP + plot, y2: TOP + plot + 4 }),
      svg(
        'text',
        { x: (i * slot + 3).toFixed(2), y: HEIGHT - 6 },
        at.toLocaleDateString(undefined, { weekday: 'short', day: 'numeric' }),
      ),
    ];
  });
  const drawing = svg(
    'svg',
    {
      viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
      role: 'img',
      'aria-labelledby': captionId,
      preserveAspectRatio: 'none',
    },
    svg('line', { class: 'axis', x1: 0, x2: WIDTH, y1: TOP + plot, y2: TOP + plot }),
    svg('text', { x: 2, y: TOP - 8 }, `${max} per hour`),
    ...ticks,
    ...bars,
  );
  const busy = hours.filter((hour) => hour.successes + hour.failures > 0);
  const totals = busy.reduce(
    (sum, hour) => ({ ok: sum.ok + hour.successes, fail: sum.fail + hour.failures }),
    { ok: 0, fail: 0 },
  );
  return h(
    'figure',
    { class: 'chart panel' },
    h('figcaption', { id: captionId }, caption, ': ', `${totals.ok} sign-ins and ${totals.fail} failures.`),
    h(
      'div',
      { class: 'legend', 'aria-hidden': 'true' },
      h('span', {}, h('span', { class: 'swatch ok' }), 'Sign-ins'),
      h('span', {}, h('span', { class: 'swatch fail' }), 'Failures'),
    ),
    drawing,
    h(
      'details',
      { class: 'table-alternative' },
      h('summary', {}, 'Show as a table'),
      busy.length === 0
        ? h('p', { class: 'muted' }, 'No sign-ins in this week.')
        : dataTable(
            [
              { label: 'Hour', cell: (/** @type {Hour} */ hour) => hourLabel(hour.hour) },
              { label: 'Sign-ins', cell: (/** @type {Hour} */ hour) => String(hour.successes) },
              { label: 'Failures', cell: (/** @type {Hour} */ hour) => String(hour.failures) },
            ],
            busy,
            caption,
          ),
    ),
  );
}
