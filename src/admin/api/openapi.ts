import { z } from 'zod';
import { ADMIN_API_PREFIX, type AdminRoute } from './route.ts';
import { componentName, errorSchema } from './views.ts';

const STATUS_TEXT: Record<number, string> = {
  400: 'Malformed request (body, query or path)',
  401: 'No valid access token for the admin API',
  403: 'The token’s caller does not hold lock_admin',
  404: 'No such entity',
  409: 'Conflicts with the present state (exists already, still in use, owned by the declarative file or built in)',
  412: 'If-Match does not name the current version: someone else changed it',
  413: 'Body too large',
  415: 'Body is not JSON',
  422: 'Invalid input: `problems` names each field',
  428: 'If-Match is required (the ETag from GET, or * to overwrite whatever is there)',
};

type JsonSchema = Record<string, unknown>;

/**
 * The OpenAPI 3.1 document of the admin API, generated from the route table and the zod schemas
 * the routes validate with (JSON Schema 2020-12 is OpenAPI 3.1's own dialect).
 */
export function buildOpenApiDocument(issuer: string, routes: readonly AdminRoute[]): Record<string, unknown> {
  const schemas: Record<string, JsonSchema> = { ProblemDetails: toJsonSchema(errorSchema, 'output') };
  const schemaRef = (schema: z.ZodType, io: 'input' | 'output'): JsonSchema => {
    const name = io === 'output' ? componentName(schema) : undefined;
    if (!name) return toJsonSchema(schema, io);
    schemas[name] ??= toJsonSchema(schema, io);
    return { $ref: `#/components/schemas/${name}` };
  };
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    paths[route.path] ??= {};
    paths[route.path]![route.method] = operation(route, schemaRef);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Lock admin API',
      version: '1',
      description:
        'Administers Lock: roles, resources, clients, connectors, role mappings, users and groups, signing keys, the audit log. ' +
        `Callers present a Lock access token (RFC 9068) for the resource ${issuer}/admin carrying the role lock_admin. ` +
        'Secrets are write-only. Single entities carry an ETag; PUT, PATCH and DELETE require If-Match.',
    },
    servers: [{ url: `${issuer}${ADMIN_API_PREFIX}` }],
    security: [{ bearerAuth: [] }],
    tags: [...new Set(routes.map((route) => route.tag))].map((name) => ({ name })),
    paths,
    components: {
      schemas,
      securitySchemes: {
        bearerAuth: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: `A Lock access token for ${issuer}/admin with the role lock_admin`,
        },
      },
    },
  };
}

function operation(route: AdminRoute, schemaRef: (schema: z.ZodType, io: 'input' | 'output') => JsonSchema) {
  const parameters: JsonSchema[] = Object.entries(route.params ?? {}).map(([name, description]) => ({
    name,
    in: 'path',
    required: true,
    description,
    schema: { type: 'string' },
  }));
  for (const [name, field] of Object.entries(route.query?.shape ?? {}) as Array<[string, z.ZodType]>)
    parameters.push({
      name,
      in: 'query',
      required: !field.safeParse(undefined).success,
      ...(field.description !== undefined && { description: field.description }),
      schema: toJsonSchema(field, 'input'),
    });
  if (route.etag === 'write' || route.etag === 'optional')
    parameters.push({
      name: 'If-Match',
      in: 'header',
      required: route.etag === 'write',
      description:
        'the ETag of the version the change is based on (from GET), or * to change whatever is current',
      schema: { type: 'string' },
    });
  if (route.etag === 'read')
    parameters.push({ name: 'If-None-Match', in: 'header', required: false, schema: { type: 'string' } });

  const success: JsonSchema = { description: route.response.description };
  if (route.etag !== undefined && route.response.status !== 204)
    success.headers = { ETag: { description: 'the version of the entity', schema: { type: 'string' } } };
  if (route.response.schema)
    success.content = { 'application/json': { schema: schemaRef(route.response.schema, 'output') } };
  else if (route.response.contentType)
    success.content = { [route.response.contentType]: { schema: { type: 'string' } } };
  const errorResponse = (status: number) => [
    String(status),
    {
      description: STATUS_TEXT[status] ?? 'Error',
      content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/ProblemDetails' } } },
    },
  ];
  const errors = route.public ? route.errors : [401, 403, ...route.errors];
  return {
    operationId: route.operationId,
    summary: route.summary,
    ...(route.description !== undefined && { description: route.description }),
    tags: [route.tag],
    ...(route.public && { security: [] }),
    ...(parameters.length > 0 && { parameters }),
    ...(route.body && {
      requestBody: {
        required: route.bodyRequired === true,
        content: Object.fromEntries(
          (route.method === 'patch'
            ? ['application/merge-patch+json', 'application/json']
            : ['application/json']
          ).map((type) => [type, { schema: schemaRef(route.body!, 'input') }]),
        ),
      },
    }),
    responses: Object.fromEntries([
      [String(route.response.status), success],
      ...[...new Set(errors)].sort().map(errorResponse),
    ]),
  };
}

function toJsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _, ...json } = z.toJSONSchema(schema, {
    io,
    unrepresentable: 'any',
    target: 'draft-2020-12',
  });
  return json as JsonSchema;
}
