// @ts-check
// What the entity forms offer to pick from, read from the admin API (never typed lists): every
// role, API (resource), connector and local group there is, following the lists' pages.
import { api, expectOk } from './api.js';

/** @typedef {'listRoles' | 'listResources' | 'listConnectors' | 'listGroups' | 'listClients'} ListOperation */

/**
 * Every item of a list, page after page.
 * @template {ListOperation} K
 * @param {K} operationId
 * @returns {Promise<import('./openapi').Operations[K]['response']['items']>}
 */
export async function allItems(operationId) {
  /** @type {any[]} */
  const items = [];
  /** @type {string | undefined} */
  let cursor;
  do {
    const page = expectOk(
      await api(operationId, { query: /** @type {never} */ ({ limit: 500, ...(cursor && { cursor }) }) }),
    );
    items.push(...page.items);
    cursor = page.next ?? undefined;
  } while (cursor);
  return items;
}

/** @typedef {Array<[string, string]>} Choices value and label */

/** The roles, in priority order, labelled with their description. @returns {Promise<Choices>} */
export const roleChoices = async () =>
  (await allItems('listRoles')).map((role) => [
    role.name,
    role.description ? `${role.name} — ${role.description}` : role.name,
  ]);

/** The APIs (resources) by identifier. @returns {Promise<Choices>} */
export const resourceChoices = async () => (await allItems('listResources')).map((r) => [r.id, r.id]);

/**
 * `choices` with the values of `selected` first, in their order (where order means something, as
 * in an API's roles), then the others; a selected value no longer on offer is kept, so that saving
 * does not drop it silently.
 * @param {Choices} choices
 * @param {string[]} selected
 * @returns {Choices}
 */
export function selectedFirst(choices, selected) {
  const labels = new Map(choices);
  return [
    ...selected.map((value) => /** @type {[string, string]} */ ([value, labels.get(value) ?? value])),
    ...choices.filter(([value]) => !selected.includes(value)),
  ];
}

/**
 * `choices` plus any value of `selected` no longer on offer (a role deleted since).
 * @param {Choices} choices
 * @param {string[]} selected
 * @returns {Choices}
 */
export function withHeld(choices, selected) {
  const offered = new Set(choices.map(([value]) => value));
  return [
    ...choices,
    ...selected.filter((v) => !offered.has(v)).map((v) => /** @type {[string, string]} */ ([v, v])),
  ];
}
