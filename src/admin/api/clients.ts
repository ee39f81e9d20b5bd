import type { AdminActor } from '../admin-actor.ts';
import {
  createClient,
  deleteClient,
  getClient,
  listClientViews,
  replaceClient,
  rotateClientSecret,
} from '../clients.ts';
import { entityRoutes } from './crud.ts';
import type { AdminApiDeps, AdminRoute } from './route.ts';
import { clientInputDoc, mergePatchOf } from './schemas.ts';
import { clientView, clientWithSecretView } from './views.ts';

const secretOnce = (secret: string | undefined) => (secret === undefined ? {} : { clientSecret: secret });
const withWarnings = (warnings: string[]) => (warnings.length === 0 ? {} : { warnings });

function logWarnings(deps: AdminApiDeps, by: AdminActor, warnings: string[]): void {
  for (const warning of warnings) deps.log.warn({ actor: by.actor, clientId: by.clientId }, warning);
}

export const clientRoutes: AdminRoute[] = [
  ...entityRoutes({
    tag: 'Clients',
    singular: 'client',
    plural: 'clients',
    collectionPath: '/clients',
    itemPath: '/clients/{clientId}',
    params: { clientId: 'the client id' },
    idFields: { clientId: 'clientId' },
    readOnly: ['managedBy', 'hasSecret'],
    reloads: true,
    view: clientView,
    createView: clientWithSecretView,
    input: clientInputDoc,
    patch: mergePatchOf('client'),
    summaries: {
      list: 'List clients, Lock’s own console included',
      create:
        'Register a client; a confidential one gets a generated secret, shown in this response only (a private_key_jwt client gets none: it registers its public keys)',
      replace: 'Replace a client’s settings (its secret stays)',
      remove: 'Delete a client',
    },
    descriptions: {
      replace:
        'A public client made confidential gets a new secret, shown in this response only; a confidential client made public loses its secret.',
    },
    list: async ({ deps }) => ({ items: await listClientViews(deps.pool, deps.issuer) }),
    create: async ({ deps, body, by }) => {
      const { client, etag, secret, warnings } = await createClient(
        deps.pool,
        deps.box,
        deps.issuer,
        body,
        by,
      );
      logWarnings(deps, by, warnings);
      return { view: client, etag, extra: { ...secretOnce(secret), ...withWarnings(warnings) } };
    },
    read: async ({ deps, params }) => {
      const { client, etag } = await getClient(deps.pool, deps.issuer, params.clientId!);
      return { view: client, etag };
    },
    replace: async ({ deps, params, ifMatch, by }, body) => {
      const { client, etag, secret, warnings } = await replaceClient(
        deps.pool,
        deps.box,
        deps.issuer,
        params.clientId!,
        body,
        ifMatch,
        by,
      );
      logWarnings(deps, by, warnings);
      return { view: client, etag, extra: { ...secretOnce(secret), ...withWarnings(warnings) } };
    },
    remove: ({ deps, params, ifMatch, by }) =>
      deleteClient(deps.pool, deps.issuer, params.clientId!, ifMatch, by),
  }),
  {
    method: 'post',
    path: '/clients/{clientId}/secret',
    operationId: 'rotateClientSecret',
    reloads: true,
    summary:
      'Give a confidential client a new secret (shown in this response only); the old one stops working',
    tag: 'Clients',
    params: { clientId: 'the client id' },
    etag: 'optional',
    response: { status: 200, description: 'The client with its new secret', schema: clientWithSecretView },
    errors: [404, 409, 412],
    handle: async ({ deps, params, ifMatch, by }) => {
      const { client, etag, secret } = await rotateClientSecret(
        deps.pool,
        deps.box,
        deps.issuer,
        params.clientId!,
        ifMatch,
        by,
      );
      return { body: { ...client, clientSecret: secret }, etag };
    },
  },
];
