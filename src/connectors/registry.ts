import type { Logger } from '../observability/logger.ts';
import type { SecretBox } from '../security/secret-box.ts';
import type { StoredConnector } from '../store/catalog-repositories.ts';
import type { Queryable } from '../store/pool.ts';
import type { ConnectorInfo, ConnectorTypeModule } from './connector.ts';
import { sealConnectorSecrets } from './connector-secrets.ts';
import { ldap } from './ldap/index.ts';
import { local } from './local/index.ts';
import { oauth2 } from './oauth2/index.ts';
import { oidc } from './oidc/index.ts';
import { saml } from './saml/index.ts';

/**
 * Every connector type Lock has, each described by its own folder's index.ts. Adding a type: its
 * folder, and its entry here (the import and the list).
 */
export const CONNECTOR_TYPE_MODULES = [local, ldap, saml, oidc, oauth2] as const;

/** The types' names: what `type` may be in the declarative file, the admin API and the store. */
export const CONNECTOR_TYPE_NAMES = CONNECTOR_TYPE_MODULES.map((module) => module.type) as [
  (typeof CONNECTOR_TYPE_MODULES)[number]['type'],
  ...(typeof CONNECTOR_TYPE_MODULES)[number]['type'][],
];

/** The module of a type, or undefined for one this version does not have. */
export const connectorTypeModule = (type: string): ConnectorTypeModule | undefined =>
  CONNECTOR_TYPE_MODULES.find((module) => module.type === type);

export interface ConnectorDependencies {
  db: Queryable;
  log: Logger;
  box: SecretBox;
  /** Lock's issuer URL: connectors with endpoints of their own (SAML) build them on it. */
  issuer: string;
  now: () => Date;
  /** Metrics for calls to upstreams, by connector id. */
  observeUpstream?: (connector: string, operation: string, outcome: 'ok' | 'error', seconds: number) => void;
}

const forConnector =
  (observe: NonNullable<ConnectorDependencies['observeUpstream']>, connector: string) =>
  (operation: string, outcome: 'ok' | 'error', seconds: number) =>
    observe(connector, operation, outcome, seconds);

/**
 * Lock's own accounts when no connector of type local is stored: they stay (first in login order)
 * when a directory or an IdP is added — the bootstrap admin must not lose its way in — until an
 * admin stores a local connector with `config.enabled: false`.
 */
export const IMPLICIT_LOCAL_CONNECTOR: StoredConnector = {
  id: 'local',
  type: 'local',
  name: 'Lock account',
  position: -1,
  config: {},
  managedBy: null,
};

/** The stored connectors, and Lock's own accounts while no local connector is stored. */
export function withImplicitLocal(stored: readonly StoredConnector[]): StoredConnector[] {
  return stored.some((connector) => connector.type === 'local')
    ? [...stored]
    : [IMPLICIT_LOCAL_CONNECTOR, ...stored];
}

/** The connectors that run, in login order: the stored ones, with Lock's own accounts unless turned off. */
export function connectorsInEffect(stored: readonly StoredConnector[]): StoredConnector[] {
  return withImplicitLocal(stored).filter(
    (connector) => !(connector.type === 'local' && connector.config.enabled === false),
  );
}

/** Exactly the connectors given (one to test, say), in order; see rebuildConnectors for a running process. */
export async function buildConnectors(
  stored: readonly StoredConnector[],
  deps: ConnectorDependencies,
): Promise<Map<string, ConnectorInfo>> {
  return new Map([...(await buildEach(stored, deps))].map(([id, { connector }]) => [id, connector]));
}

/** Connectors built from stored rows, with the row each came from so an unchanged one can be kept. */
export type ConnectorSet = Map<string, { connector: ConnectorInfo; source: string }>;

/**
 * The connectors a running process uses (connectorsInEffect: Lock's own accounts unless turned
 * off): a connector whose stored row has not changed since
 * `previous` is kept as it is (an LDAP connector keeps its pool of directory connections); one
 * that changed or went away is closed.
 */
export async function rebuildConnectors(
  stored: readonly StoredConnector[],
  deps: ConnectorDependencies,
  previous: ConnectorSet = new Map(),
): Promise<ConnectorSet> {
  const connectors = await buildEach(connectorsInEffect(stored), deps, previous);
  for (const [id, { connector }] of previous) {
    if (connectors.get(id)?.connector === connector) continue;
    void (connector as Partial<{ close(): Promise<void> }>).close?.().catch(() => {});
  }
  return connectors;
}

/**
 * Each type's heavy code (SAML's XML libraries, ldapts, openid-client) is loaded here, when the
 * first connector of the type is built: a Lock without such a connector never holds it in memory.
 */
async function buildEach(
  stored: readonly StoredConnector[],
  deps: ConnectorDependencies,
  previous: ConnectorSet = new Map(),
): Promise<ConnectorSet> {
  const connectors: ConnectorSet = new Map();
  for (const connector of stored) {
    const module = connectorTypeModule(connector.type);
    if (!module) {
      deps.log.warn(
        { connector: connector.id, type: connector.type },
        'connector type not available in this version: skipped',
      );
      continue;
    }
    const source = JSON.stringify(connector);
    const kept = previous.get(connector.id);
    if (kept?.source === source) {
      connectors.set(connector.id, kept);
      continue;
    }
    const config = sealConnectorSecrets.open(connector.config, deps.box, connector.id);
    await module.load?.();
    const built = module.create(
      { id: connector.id, name: connector.name, config },
      {
        db: deps.db,
        log: deps.log,
        issuer: deps.issuer,
        now: deps.now,
        box: deps.box,
        ...(deps.observeUpstream && { observeUpstream: forConnector(deps.observeUpstream, connector.id) }),
      },
    );
    connectors.set(connector.id, { connector: built, source });
  }
  return connectors;
}

/** Claim names connectors add from upstream attributes: oidc-provider emits only claims it was told of. */
export function customClaimNames(stored: readonly StoredConnector[]): string[] {
  const names = stored.flatMap(
    (connector) => connectorTypeModule(connector.type)?.claimNames?.(connector.config) ?? [],
  );
  return [...new Set(names)];
}
