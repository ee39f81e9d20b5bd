import { z } from 'zod';
import { listSigningKeyViews, rotateKeys, rotationInputSchema } from '../signing-keys.ts';
import type { AdminRoute } from './route.ts';
import { addedKeyView, listOf, signingKeyView } from './views.ts';

export const keyRoutes: AdminRoute[] = [
  {
    method: 'get',
    path: '/keys',
    operationId: 'listSigningKeys',
    summary: 'List the published signing keys with their state (signing, next, retired); public parts only',
    tag: 'Signing keys',
    response: { status: 200, description: 'The keys', schema: listOf(signingKeyView) },
    errors: [],
    handle: async ({ deps }) => ({
      body: {
        items: await listSigningKeyViews(deps.pool, {
          now: deps.now(),
          retentionSeconds: deps.runtime.state.catalog.longestTokenTtl + deps.jwksMaxAge,
        }),
      },
    }),
  },
  {
    method: 'post',
    path: '/keys/rotate',
    operationId: 'rotateSigningKeys',
    reloads: true,
    summary: 'Add the next signing keys: published now, signing once the JWKS cache lifetime has passed',
    tag: 'Signing keys',
    body: rotationInputSchema,
    response: {
      status: 201,
      description: 'The keys added',
      schema: z.object({ items: z.array(addedKeyView) }),
    },
    errors: [415, 422],
    handle: async ({ deps, body, by }) => ({
      status: 201,
      body: {
        items: await rotateKeys(
          deps.pool,
          deps.box,
          body,
          { now: deps.now(), prepublishSeconds: deps.jwksMaxAge },
          by,
        ),
      },
    }),
  },
];
