import type { ConnectorInfo } from '../connectors/connector.ts';
import { buildConnectors, type ConnectorDependencies } from '../connectors/registry.ts';
import { IdpMetadataSource } from '../connectors/saml/idp-metadata-source.ts';
import { isSamlConnector, type SamlConnector } from '../connectors/saml/saml-connector.ts';
import type { StoredConnector } from '../store/catalog-repositories.ts';

/** One step of a connection test, as the console shows it. */
export interface TestStep {
  step: string;
  ok: boolean;
  detail: string;
  durationMs: number;
}

export interface ConnectionTestReport {
  ok: boolean;
  /** The server that answered, when one did. */
  url?: string;
  /** The steps in order, up to and including the first that failed. */
  steps: TestStep[];
}

/** Connectors that can try their upstream step by step (LDAP). */
interface TestableConnector {
  testConnection(options: { username?: string }): Promise<ConnectionTestReport>;
}

const isTestable = (connector: object): connector is TestableConnector =>
  typeof (connector as Partial<TestableConnector>).testConnection === 'function';

const failed = (step: string, detail: string): ConnectionTestReport => ({
  ok: false,
  steps: [{ step, ok: false, detail, durationMs: 0 }],
});

/**
 * Builds the connector from `stored` (secrets sealed, as in the database) on its own and tries
 * its upstream: the connector's own `testConnection` where it has one, for SAML the IdP metadata.
 */
export async function testConnector(
  stored: StoredConnector,
  deps: ConnectorDependencies,
  options: { username?: string } = {},
): Promise<ConnectionTestReport> {
  let connector: ConnectorInfo | undefined;
  try {
    connector = buildConnectors([stored], deps).get(stored.id);
  } catch (error) {
    return failed('configuration', (error as Error).message);
  }
  if (!connector) return failed('configuration', `connector type ${stored.type} is not available`);
  try {
    if (isTestable(connector)) return await connector.testConnection(options);
    if (isSamlConnector(connector)) return await testIdpMetadata(connector, deps);
    return {
      ok: true,
      steps: [
        {
          step: 'configuration',
          ok: true,
          detail: `${stored.type} connectors need no connection`,
          durationMs: 0,
        },
      ],
    };
  } finally {
    await (connector as { close?: () => Promise<void> }).close?.();
  }
}

// The SAML connector has no testConnection of its own: reading the IdP's metadata is what can fail.
async function testIdpMetadata(
  connector: SamlConnector,
  deps: ConnectorDependencies,
): Promise<ConnectionTestReport> {
  const started = performance.now();
  const source = new IdpMetadataSource({
    connectorId: connector.id,
    config: connector.config,
    db: deps.db,
    log: deps.log,
    now: deps.now,
  });
  try {
    const idp = await source.descriptor();
    return {
      ok: true,
      ...(connector.config.idpMetadataUrl !== undefined && { url: connector.config.idpMetadataUrl }),
      steps: [
        {
          step: 'idp metadata',
          ok: true,
          detail: `IdP ${idp.entityId}: single sign-on at ${idp.ssoRedirectUrl}, ${idp.signingCertificates.length} signing certificate(s)`,
          durationMs: Math.round(performance.now() - started),
        },
      ],
    };
  } catch (error) {
    const file = connector.config.idpMetadataFile;
    if (file !== undefined)
      deps.log.warn(
        { connector: connector.id, err: { message: (error as Error).message } },
        'IdP metadata file unusable (connection test)',
      );
    return {
      ok: false,
      steps: [
        {
          step: 'idp metadata',
          ok: false,
          // One message whatever is wrong with a file (missing, unreadable, not metadata): the admin
          // API must not tell its callers which paths exist on Lock's server. The log has the reason.
          detail:
            file === undefined
              ? (error as Error).message
              : `SAML connector ${connector.id}: idpMetadataFile ${file} is not a readable file of usable IdP metadata (the reason is in Lock's log)`,
          durationMs: Math.round(performance.now() - started),
        },
      ],
    };
  }
}
