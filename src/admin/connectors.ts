import type pg from 'pg';
import { z } from 'zod';
import { issueProblems } from '../config/schema-errors.ts';
import { connectorSchema } from '../connectors/config-schemas.ts';
import { isMetadataConnector } from '../connectors/connector.ts';
import {
  isSecretMember,
  keepOmittedSecrets,
  sealConnectorSecrets,
  secretsBoundToChangedTarget,
  withoutConnectorSecrets,
} from '../connectors/connector-secrets.ts';
import type { ConnectorDependencies } from '../connectors/registry.ts';
import {
  buildConnectors,
  CONNECTOR_TYPE_MODULES,
  connectorTypeModule,
  IMPLICIT_LOCAL_CONNECTOR,
  withImplicitLocal,
} from '../connectors/registry.ts';
import { isObject } from '../model/schema-checks.ts';
import {
  conflict,
  fieldError,
  invalidInput,
  LockError,
  notFound,
  type Problem,
} from '../observability/errors.ts';
import type { SecretBox } from '../security/secret-box.ts';
import {
  deleteConnector as deleteStoredConnector,
  listConnectors,
  listRoleMappings,
  nextPosition,
  type StoredConnector,
  upsertConnector,
} from '../store/catalog-repositories.ts';
import type { Queryable } from '../store/pool.ts';
import { type AdminActor, recordAdminChange } from './admin-actor.ts';
import { assertUnreferenced, changeable, changeCatalog } from './catalog-change.ts';
import { changedFields } from './changes.ts';
import { type ConnectionTestReport, testConnector } from './connector-test.ts';
import { recordTest } from './connector-test-audit.ts';
import { entityTag } from './entity-tag.ts';
import { parseInput } from './validation.ts';

/**
 * Admin operations on connectors. Configs are validated with the declarative file's per-type
 * schemas; secret members are sealed at rest and write-only: a view lists which are set, and an
 * update that leaves one out keeps the stored one. Saving test-connects unless told not to.
 */

export interface ConnectorView {
  id: string;
  type: StoredConnector['type'];
  name: string;
  position: number;
  config: Record<string, unknown>;
  setSecrets: string[];
  managedBy: StoredConnector['managedBy'];
  /** Where the upstream sends the browser back (OAuth 2.0 / OIDC types): the admin registers it there. */
  redirectUri?: string;
}

export interface ConnectorServices {
  pool: pg.Pool;
  box: SecretBox;
  /** What a connector is built with for a test (the same as the running ones get). */
  connectorDeps: ConnectorDependencies;
}

/** Not in the declarative file (its order is the position): where the connector goes in login order. */
export const positionSchema = z.int().min(0).max(1_000_000);

/** Thrown when saving a connector whose connection test failed; the report says which step. */
function connectionTestFailed(report: ConnectionTestReport): LockError {
  const step = report.steps.find((each) => !each.ok);
  const message = `the connection test failed${step ? ` at "${step.step}": ${step.detail}` : ''}`;
  return new LockError('connection_test_failed', message, {
    problems: [{ path: 'config', message }],
    extensions: { test: report },
  });
}

const isSecretPath = (path: string) => isSecretMember(path.slice(path.lastIndexOf('.') + 1));

/**
 * The redirect URI a connector's upstream must have registered: its type's callback route on Lock's
 * issuer. Only for types the upstream answers by redirecting the browser with a GET (OAuth 2.0 and
 * OpenID Connect); a SAML IdP learns its ACS URL from Lock's SP metadata instead.
 */
export function redirectUriOf(connector: { id: string; type: string }, issuer: string): string | undefined {
  const route = connectorTypeModule(connector.type)?.redirect?.callbackRoute;
  if (route?.method !== 'get') return undefined;
  return `${issuer.replace(/\/+$/, '')}${route.path.replace(':connector', encodeURIComponent(connector.id))}`;
}

export function toConnectorView(stored: StoredConnector, issuer: string): ConnectorView {
  const { config, setSecrets } = withoutConnectorSecrets(stored.config);
  const redirectUri = redirectUriOf(stored, issuer);
  return { ...stored, config, setSecrets, ...(redirectUri !== undefined && { redirectUri }) };
}

const listWithImplicit = async (db: Queryable) => withImplicitLocal(await listConnectors(db));

const findStored = async (db: Queryable, id: string) =>
  (await listWithImplicit(db)).find((connector) => connector.id === id);

export async function listConnectorViews(db: Queryable, issuer: string): Promise<ConnectorView[]> {
  return (await listWithImplicit(db)).map((stored) => toConnectorView(stored, issuer));
}

export async function getConnector(db: Queryable, id: string, issuer: string) {
  const stored = await findStored(db, id);
  if (!stored) throw notFound(`connector "${id}" does not exist`);
  return { connector: toConnectorView(stored, issuer), etag: entityTag(stored) };
}

/**
 * Validates a connector body (secrets it omits taken from `current`) and seals its secrets. Every
 * problem is reported at once, each naming its field. A secret is taken from `current` only while
 * the connector still points at the same upstream: a new url or other TLS/trust settings need it
 * again, so a stored password never goes to a server it was not saved for.
 */
function prepare(services: ConnectorServices, input: unknown, current?: StoredConnector) {
  const { position: rawPosition, ...body } = (input ?? {}) as Record<string, unknown>;
  const problems: Problem[] = [];
  // A representation sent back as it was read keeps its position (Lock's own accounts sit at -1).
  const unchanged = rawPosition === undefined || rawPosition === current?.position;
  const position = unchanged ? undefined : positionSchema.safeParse(rawPosition);
  if (position && !position.success)
    problems.push(...issueProblems(position.error.issues).map((each) => ({ ...each, path: 'position' })));
  if (current && body.type !== undefined && body.type !== current.type)
    problems.push({
      path: 'type',
      message: `is ${current.type}: a connector cannot change type (add a new one)`,
    });
  const opened = current ? sealConnectorSecrets.open(current.config, services.box, current.id) : undefined;
  const given = isObject(body.config) ? body.config : undefined;
  const withSecrets = opened && given ? keepOmittedSecrets(given, opened) : (body.config ?? {});
  const parsed = connectorSchema.safeParse({ ...body, config: withSecrets });
  if (!parsed.success) problems.push(...issueProblems(parsed.error.issues));
  if (parsed.success && current && opened && given) {
    const { changed, secrets } = secretsBoundToChangedTarget(
      connectorTypeModule(current.type)?.upstreamSecrets ?? { target: [], secrets: [] },
      given,
      normalizedConfig(current.type, opened),
      parsed.data.config,
    );
    for (const secret of secrets)
      problems.push({
        path: `config.${secret}`,
        message: `is required again: ${changed.join(', ')} changed, and the stored ${secret} is only ever sent to the server it was saved for`,
      });
  }
  if (problems.length > 0 || !parsed.success) throw invalidInput(problems);
  const connector = parsed.data;
  return {
    connector,
    position: position?.data,
    opened,
    sealed: sealConnectorSecrets.seal(connector.config, services.box, connector.id),
  };
}

/** A stored config with today's defaults filled in, so a default added later is not a "change". */
function normalizedConfig(type: StoredConnector['type'], config: Record<string, unknown>) {
  const parsed = connectorTypeModule(type)?.configSchema.safeParse(config);
  return parsed?.success ? (parsed.data as Record<string, unknown>) : config;
}

async function assertTestPasses(
  services: ConnectorServices,
  stored: StoredConnector,
  test: boolean,
  by: AdminActor,
  plain: { type: string; config: Record<string, unknown> },
): Promise<ConnectionTestReport | undefined> {
  if (!test) return undefined;
  const report = await testConnector(stored, services.connectorDeps);
  if (!report.ok) {
    await recordTest(services.pool, by, {
      type: 'admin.connector.save_refused',
      connector: { id: stored.id, ...plain },
      draft: true,
      report,
    });
    throw connectionTestFailed(report);
  }
  return report;
}

export async function createConnector(
  services: ConnectorServices,
  input: unknown,
  options: { test: boolean },
  by: AdminActor,
) {
  const { connector, position, sealed } = prepare(services, input);
  const draft: StoredConnector = { ...connector, config: sealed, position: position ?? 0, managedBy: null };
  if (await findStored(services.pool, connector.id))
    throw fieldError('id', `a connector "${connector.id}" already exists`, 409);
  const test = await assertTestPasses(services, draft, options.test, by, connector);
  return changeCatalog(services.pool, async (db) => {
    if (await findStored(db, connector.id))
      throw fieldError('id', `a connector "${connector.id}" already exists`, 409);
    const stored = { ...draft, position: position ?? (await nextPosition(db, 'connectors')) };
    await upsertConnector(db, stored);
    const { setSecrets, redirectUri: _, ...view } = toConnectorView(stored, services.connectorDeps.issuer);
    await recordAdminChange(db, by, {
      type: 'admin.connector.created',
      subject: connector.id,
      details: { connector: view, setSecrets, tested: test !== undefined },
    });
    return {
      ...(await getConnector(db, connector.id, services.connectorDeps.issuer)),
      ...(test && { test }),
    };
  });
}

export async function replaceConnector(
  services: ConnectorServices,
  id: string,
  input: unknown,
  ifMatch: string | undefined,
  options: { test: boolean },
  by: AdminActor,
) {
  const current = await findStored(services.pool, id);
  if (!current) throw notFound(`connector "${id}" does not exist`);
  const { connector, position, opened, sealed } = prepare(services, input, current);
  const next: StoredConnector = {
    ...connector,
    config: sealed,
    position: position ?? current.position,
    managedBy: null,
  };
  // Checked before the (slow) test too, so a stale edit fails fast; the transaction checks again.
  changeable(current, `connector "${id}"`, ifMatch);
  const test = await assertTestPasses(services, next, options.test, by, connector);
  return changeCatalog(services.pool, async (db) => {
    changeable(await findStored(db, id), `connector "${id}"`, ifMatch);
    await upsertConnector(db, next);
    await recordAdminChange(db, by, {
      type: 'admin.connector.updated',
      subject: id,
      details: {
        tested: test !== undefined,
        changes: changedFields(
          { name: current.name, position: current.position, config: opened },
          { name: next.name, position: next.position, config: connector.config },
          isSecretPath,
        ),
      },
    });
    return { ...(await getConnector(db, id, services.connectorDeps.issuer)), ...(test && { test }) };
  });
}

export async function deleteConnector(
  pool: pg.Pool,
  id: string,
  ifMatch: string | undefined,
  by: AdminActor,
): Promise<void> {
  await changeCatalog(pool, async (db) => {
    const current = changeable(await findStored(db, id), `connector "${id}"`, ifMatch);
    if (current === IMPLICIT_LOCAL_CONNECTOR)
      throw conflict(
        `connector "${id}" is Lock's own accounts, there unless turned off: to turn them off, save it with config.enabled: false`,
      );
    const mappings = (await listRoleMappings(db)).filter((mapping) => mapping.connector === id);
    assertUnreferenced(
      `connector "${id}"`,
      mappings.map((mapping) => `role mapping ${mapping.connector} → ${mapping.group}`),
    );
    await deleteStoredConnector(db, id);
    await recordAdminChange(db, by, { type: 'admin.connector.deleted', subject: id });
  });
}

/** Tries a stored connector's upstream as it is configured now (audited). */
export async function testStoredConnector(
  services: ConnectorServices,
  id: string,
  options: { username?: string },
  by: AdminActor,
): Promise<ConnectionTestReport> {
  const stored = await findStored(services.pool, id);
  if (!stored) throw notFound(`connector "${id}" does not exist`);
  const report = await testConnector(stored, services.connectorDeps, options);
  await recordTest(services.pool, by, {
    type: 'admin.connector.tested',
    connector: { ...stored, config: withoutConnectorSecrets(stored.config).config },
    draft: false,
    report,
  });
  return report;
}

/**
 * Tries a connector that is not saved (yet): the console's "Test connection" on a form. When the
 * draft's id names a stored connector of its type, secrets the draft leaves out come from it —
 * as long as the draft points at the same upstream (see `prepare`). Audited.
 */
export async function testDraftConnector(
  services: ConnectorServices,
  input: unknown,
  options: { username?: string },
  by: AdminActor,
): Promise<ConnectionTestReport> {
  const id = (input as { id?: unknown } | null)?.id;
  const stored = typeof id === 'string' ? await findStored(services.pool, id) : undefined;
  const sameType = stored && stored.type === (input as { type?: unknown }).type ? stored : undefined;
  const { connector, sealed } = prepare(services, input, sameType);
  const report = await testConnector(
    { ...connector, config: sealed, position: 0, managedBy: null },
    services.connectorDeps,
    options,
  );
  await recordTest(services.pool, by, { type: 'admin.connector.tested', connector, draft: true, report });
  return report;
}

const withMetadataImport = CONNECTOR_TYPE_MODULES.filter(
  (module): module is Extract<typeof module, { metadataImport: unknown }> => 'metadataImport' in module,
);

/** The body of `…/idp-metadata`: where the new upstream metadata comes from (one URL or the XML). */
export const idpMetadataImportSchema = withMetadataImport[0]!.metadataImport.schema;

/**
 * Points a SAML connector at new IdP metadata (by URL or as XML), after reading it: metadata that
 * cannot be read or used is refused with the reason and the connector stays as it was.
 */
export async function importIdpMetadata(
  services: ConnectorServices,
  id: string,
  input: unknown,
  ifMatch: string | undefined,
  by: AdminActor,
) {
  const source = parseInput(idpMetadataImportSchema, input);
  const current = await findStored(services.pool, id);
  if (!current) throw notFound(`connector "${id}" does not exist`);
  const metadataImport = connectorTypeModule(current.type)?.metadataImport;
  if (!metadataImport)
    throw conflict(
      `connector "${id}" is ${current.type}: only ${withMetadataImport.map((module) => module.type).join(', ')} connectors have IdP metadata`,
    );
  changeable(current, `connector "${id}"`, ifMatch);
  const config = sealConnectorSecrets.open(current.config, services.box, id);
  const { connector, sealed } = prepare(services, {
    id,
    type: current.type,
    name: current.name,
    config: metadataImport.configWith(config, source),
  });
  const next: StoredConnector = { ...connector, config: sealed, position: current.position, managedBy: null };
  const test = await assertTestPasses(services, next, true, by, connector);
  return changeCatalog(services.pool, async (db) => {
    changeable(await findStored(db, id), `connector "${id}"`, ifMatch);
    await upsertConnector(db, next);
    await recordAdminChange(db, by, {
      type: 'admin.connector.idp_metadata_imported',
      subject: id,
      details: source.url !== undefined ? { url: source.url } : { xmlBytes: Buffer.byteLength(source.xml!) },
    });
    return { ...(await getConnector(db, id, services.connectorDeps.issuer)), ...(test && { test }) };
  });
}

/** The SP metadata of a SAML connector, for the IdP's admin. */
export async function spMetadata(services: ConnectorServices, id: string): Promise<string> {
  const stored = await findStored(services.pool, id);
  if (!stored) throw notFound(`connector "${id}" does not exist`);
  const connector = (await buildConnectors([stored], services.connectorDeps)).get(id);
  if (!isMetadataConnector(connector))
    throw notFound(`connector "${id}" is ${stored.type}: only SAML connectors have SP metadata`);
  return connector.metadata().body;
}
