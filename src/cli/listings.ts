import { parseArgs } from 'node:util';
import { CLI_ACTOR } from '../admin/admin-actor.ts';
import { type AuditQuery, auditQuerySchema, listAuditPage } from '../admin/audit-log.ts';
import { listClientViews } from '../admin/clients.ts';
import { listConnectorViews } from '../admin/connectors.ts';
import { listResourceViews } from '../admin/resources.ts';
import { listRoleMappingViews } from '../admin/role-mappings.ts';
import { listRoleViews } from '../admin/roles.ts';
import { listSigningKeyViews } from '../admin/signing-keys.ts';
import { soleAdminAccountExists, userListItems } from '../admin/user-state.ts';
import { parseInput } from '../admin/validation.ts';
import { loadCatalog } from '../catalog/catalog.ts';
import { listGroups } from '../store/groups.ts';
import { listUsers } from '../store/users.ts';
import { print, printJson } from './output.ts';
import { type Session, withSession } from './session.ts';

/**
 * The listing commands (`lock users list`, `lock roles list` …): a table for people, or with
 * `--json` what the admin API's list operation answers (`{ "items": [...] }`, each item the API's
 * representation), read through the same admin-layer functions the API calls.
 */

type Row = Record<string, unknown>;

interface Column {
  header: string;
  cell: (item: Row) => string;
}

interface Listing {
  /** What the command reads: the admin API's list body. */
  read(
    session: Session,
    options: Record<string, string | undefined>,
  ): Promise<{ items: unknown[]; next?: string | null }>;
  columns: Column[];
  /** Options besides --json (string-valued), e.g. the audit log's filters. */
  options?: string[];
}

const text = (value: unknown): string => {
  if (value === undefined || value === null) return '';
  if (Array.isArray(value)) return value.join(',');
  if (value instanceof Date) return value.toISOString();
  return String(value);
};
const column = (header: string, member: string): Column => ({ header, cell: (item) => text(item[member]) });
const owner = column('MANAGED BY', 'managedBy');
const ownerOrAdmin: Column = { header: 'MANAGED BY', cell: (item) => text(item.managedBy) || 'admin' };

export const LISTINGS: Record<string, Listing> = {
  users: {
    async read({ database }) {
      const soleAdmin = await soleAdminAccountExists(database.pool);
      return {
        items: await userListItems(database.pool, await listUsers(database.pool), CLI_ACTOR, soleAdmin),
      };
    },
    columns: [
      column('USERNAME', 'username'),
      {
        header: 'STATUS',
        cell: (user) =>
          user.disabled ? 'disabled' : user.lockedUntil ? `locked out until ${user.lockedUntil}` : 'active',
      },
      column('GROUPS', 'groups'),
      column('ROLES', 'effectiveRoles'),
    ],
  },
  clients: {
    read: async ({ env, database }) => ({ items: await listClientViews(database.pool, env.LOCK_ISSUER) }),
    columns: [
      column('CLIENT ID', 'clientId'),
      { header: 'TYPE', cell: (client) => (client.public ? 'public' : 'confidential') },
      column('GRANT TYPES', 'grantTypes'),
      ownerOrAdmin,
    ],
  },
  roles: {
    read: async ({ database }) => ({ items: await listRoleViews(database.pool) }),
    columns: [
      column('NAME', 'name'),
      column('POSITION', 'position'),
      column('DESCRIPTION', 'description'),
      owner,
    ],
  },
  resources: {
    read: async ({ env, database }) => ({ items: await listResourceViews(database.pool, env.LOCK_ISSUER) }),
    columns: [column('ID', 'id'), column('SCOPES', 'scopes'), column('ROLES', 'roles'), owner],
  },
  'role-mappings': {
    read: async ({ database }) => ({ items: await listRoleMappingViews(database.pool) }),
    columns: [column('CONNECTOR', 'connector'), column('GROUP', 'group'), column('ROLES', 'roles'), owner],
  },
  connectors: {
    read: async ({ env, database }) => ({ items: await listConnectorViews(database.pool, env.LOCK_ISSUER) }),
    columns: [column('ID', 'id'), column('TYPE', 'type'), column('NAME', 'name'), owner],
  },
  groups: {
    read: async ({ database }) => ({ items: await listGroups(database.pool) }),
    columns: [column('NAME', 'name'), column('MEMBERS', 'memberCount'), owner],
  },
  keys: {
    async read({ env, database, box }) {
      const catalog = await loadCatalog(database.pool, box, env.LOCK_ISSUER);
      const items = await listSigningKeyViews(database.pool, {
        now: new Date(),
        retentionSeconds: catalog.longestTokenTtl + env.LOCK_JWKS_MAX_AGE,
      });
      return { items };
    },
    columns: [
      column('KID', 'kid'),
      column('ALG', 'alg'),
      column('STATE', 'state'),
      { header: 'SINCE', cell: (key) => text(key.state === 'next' ? key.createdAt : key.activatesAt) },
      {
        header: 'UNTIL',
        cell: (key) => (key.state === 'next' ? `signs from ${text(key.activatesAt)}` : text(key.unpublishAt)),
      },
    ],
  },
  audit: {
    // The API's query schema: a bad --from or --type is refused naming it, as the API refuses it.
    read: ({ database }, options) =>
      listAuditPage(database.pool, parseInput(auditQuerySchema, definedOnly(options)) as AuditQuery),
    options: ['from', 'to', 'actor', 'type', 'limit', 'cursor'],
    columns: [
      column('AT', 'at'),
      column('TYPE', 'type'),
      column('OUTCOME', 'outcome'),
      column('ACTOR', 'actor'),
      column('SUBJECT', 'subject'),
      column('IP', 'ip'),
    ],
  },
};

/** `apis` is what the console calls resources. */
LISTINGS.apis = LISTINGS.resources!;

const definedOnly = (options: Record<string, string | undefined>) =>
  Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));

/** `lock <what> list [--json] [options]`. */
export async function listCommand(what: string, args: string[]): Promise<void> {
  const listing = LISTINGS[what];
  if (!listing) throw new Error(`nothing to list called "${what}"`);
  const { values } = parseArgs({
    args,
    options: {
      json: { type: 'boolean' },
      ...Object.fromEntries((listing.options ?? []).map((name) => [name, { type: 'string' as const }])),
    },
  });
  const { json, ...options } = values as Record<string, string | undefined> & { json?: boolean };
  await withSession(async (session) => {
    const page = await listing.read(session, options);
    if (json) return printJson(page);
    for (const line of table(listing.columns, page.items as Row[])) print(line);
    // On stderr: stdout stays the table.
    if (page.next) process.stderr.write(`more: --cursor ${page.next}\n`);
  });
}

/** Columns as wide as their widest cell, two spaces apart; the last one unpadded. */
function table(columns: Column[], items: Row[]): string[] {
  const rows = [
    columns.map((each) => each.header),
    ...items.map((item) => columns.map((each) => each.cell(item))),
  ];
  const widths = columns.map((_, index) => Math.max(...rows.map((row) => row[index]!.length)));
  return rows.map((row) =>
    row
      .map((cell, index) => (index === row.length - 1 ? cell : cell.padEnd(widths[index]!)))
      .join('  ')
      .trimEnd(),
  );
}
