import { z } from 'zod';
import {
  type ConnectorServices,
  createConnector,
  deleteConnector,
  getConnector,
  idpMetadataImportSchema,
  importIdpMetadata,
  listConnectorViews,
  replaceConnector,
  spMetadata,
  testDraftConnector,
  testStoredConnector,
} from '../connectors.ts';
import { parseInput } from '../validation.ts';
import { entityRoutes } from './crud.ts';
import type { AdminApiDeps, AdminCall, AdminRoute } from './route.ts';
import { connectorInputDoc, mergePatchOf } from './schemas.ts';
import { connectorView, testReportSchema } from './views.ts';

const services = (deps: AdminApiDeps): ConnectorServices => ({
  pool: deps.pool,
  box: deps.box,
  connectorDeps: { db: deps.pool, log: deps.log, box: deps.box, issuer: deps.issuer, now: deps.now },
});

const saveQuery = z.strictObject({
  test: z
    .enum(['true', 'false'])
    .default('true')
    .describe('false saves without the connection test (e.g. while the directory is down by plan)'),
});

const testOptionsSchema = z.strictObject({
  username: z.string().min(1).max(256).optional().describe('look this user up (and their groups)'),
});

const testFlag = (call: AdminCall) => ({ test: call.query.test !== 'false' });
const params = { id: 'the connector id' };

export const connectorRoutes: AdminRoute[] = [
  ...entityRoutes({
    tag: 'Connectors',
    singular: 'connector',
    plural: 'connectors',
    collectionPath: '/connectors',
    itemPath: '/connectors/{id}',
    params,
    idFields: { id: 'id' },
    readOnly: ['managedBy', 'setSecrets', 'redirectUri', 'test'],
    reloads: true,
    view: connectorView,
    input: connectorInputDoc,
    patch: mergePatchOf('connector'),
    writeQuery: saveQuery,
    summaries: {
      list: 'List connectors in login order',
      create: 'Add a connector: its config is validated and its connection tested before it is saved',
      replace: 'Replace a connector; secret members left out keep their stored values',
      remove: 'Delete a connector that no role mapping uses',
    },
    descriptions: {
      create:
        'Secret members of `config` (bindPassword, spPrivateKey, clientSecret, …) are write-only: responses list them in `setSecrets`. OpenID Connect and OAuth 2.0 connectors answer with `redirectUri`, the URI to register at the upstream. A failing connection test answers 422 with the per-step report in `test`.',
      replace:
        'Secret members left out of `config` keep their stored values — unless the change moves the connector to another server or trust setting (LDAP url, urls, startTLS, caCert, caFile, insecureSkipVerify, insecureNoTLS; OpenID Connect issuer, allowInsecureIssuer; OAuth 2.0 authorizationUrl, tokenUrl, userinfoUrl, groupsUrl, clientId): then they must be given again (422 naming e.g. `config.bindPassword` or `config.clientSecret`). The type cannot change. A failing connection test answers 422 with the per-step report in `test`. A change that would leave no lock_admin able to sign in (turning the local connector off) answers 409.',
    },
    list: async ({ deps }) => ({ items: await listConnectorViews(deps.pool, deps.issuer) }),
    create: async (call) => {
      const { connector, etag, test } = await createConnector(
        services(call.deps),
        call.body,
        testFlag(call),
        call.by,
      );
      return { view: connector, etag, ...(test && { extra: { test } }) };
    },
    read: async ({ deps, params }) => {
      const { connector, etag } = await getConnector(deps.pool, params.id!, deps.issuer);
      return { view: connector, etag };
    },
    replace: async (call, body) => {
      const { connector, etag, test } = await replaceConnector(
        services(call.deps),
        call.params.id!,
        body,
        call.ifMatch,
        testFlag(call),
        call.by,
      );
      return { view: connector, etag, ...(test && { extra: { test } }) };
    },
    remove: ({ deps, params, ifMatch, by }) => deleteConnector(deps.pool, params.id!, ifMatch, by),
  }),
  {
    method: 'post',
    path: '/connectors/test',
    operationId: 'testConnectorDraft',
    summary: 'Test a connector that is not saved (yet): per-step results',
    description:
      'When `id` names a saved connector of the same type, secret members left out are taken from it — only while the draft keeps its url and TLS/trust settings; otherwise they must be given (422). Audited as admin.connector.tested. The answer is 200 whether or not the test passes: see `ok`.',
    tag: 'Connectors',
    query: testOptionsSchema,
    body: connectorInputDoc,
    bodyRequired: true,
    response: { status: 200, description: 'The test report', schema: testReportSchema },
    errors: [400, 415, 422],
    handle: async (call) => ({
      body: await testDraftConnector(
        services(call.deps),
        call.body,
        { ...(typeof call.query.username === 'string' && { username: call.query.username }) },
        call.by,
      ),
    }),
  },
  {
    method: 'post',
    path: '/connectors/{id}/test',
    operationId: 'testConnector',
    summary: 'Test a saved connector’s connection: per-step results (connect, TLS, bind, search, groups)',
    tag: 'Connectors',
    params,
    body: testOptionsSchema,
    response: { status: 200, description: 'The test report (see `ok`)', schema: testReportSchema },
    errors: [404, 415, 422],
    handle: async (call) => {
      const options = parseInput(testOptionsSchema, call.body ?? {});
      return { body: await testStoredConnector(services(call.deps), call.params.id!, options, call.by) };
    },
  },
  {
    method: 'post',
    path: '/connectors/{id}/idp-metadata',
    operationId: 'importIdpMetadata',
    reloads: true,
    summary: 'Point a SAML connector at IdP metadata, by URL or as XML, once it has been read successfully',
    tag: 'Connectors',
    params,
    body: idpMetadataImportSchema,
    bodyRequired: true,
    etag: 'optional',
    response: { status: 200, description: 'The connector', schema: connectorView },
    errors: [404, 409, 412, 415, 422],
    handle: async (call) => {
      const { connector, etag, test } = await importIdpMetadata(
        services(call.deps),
        call.params.id!,
        call.body,
        call.ifMatch,
        call.by,
      );
      return { body: { ...connector, ...(test && { test }) }, etag };
    },
  },
  {
    method: 'get',
    path: '/connectors/{id}/sp-metadata',
    operationId: 'getSpMetadata',
    summary: 'Download a SAML connector’s SP metadata (for the IdP’s admin)',
    tag: 'Connectors',
    params,
    response: {
      status: 200,
      description: 'SAML 2.0 metadata of Lock as the service provider',
      contentType: 'application/samlmetadata+xml',
    },
    errors: [404],
    handle: async ({ deps, params }) => ({
      body: await spMetadata(services(deps), params.id!),
      contentType: 'application/samlmetadata+xml',
    }),
  },
];
