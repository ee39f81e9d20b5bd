// Writes views/admin/openapi.d.ts, the admin console's types, from the admin API's OpenAPI
// document (src/admin/api/openapi.ts builds it from the route table): one type per component schema
// and, per operationId, its path parameters, query, request body and success response.
// `node scripts/console-types.ts` regenerates the file; `--check` fails when it is out of date.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildOpenApiDocument } from '../src/admin/api/openapi.ts';
import { ADMIN_ROUTES } from '../src/admin/api/router.ts';

export const CONSOLE_TYPES_PATH = fileURLToPath(new URL('../views/admin/openapi.d.ts', import.meta.url));

type Schema = {
  $ref?: string;
  type?: string | string[];
  const?: unknown;
  enum?: unknown[];
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
  items?: Schema;
  prefixItems?: Schema[];
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: Schema | boolean;
  description?: string;
};
type Parameter = { name: string; in: string; required?: boolean; schema: Schema };
type Operation = {
  operationId: string;
  parameters?: Parameter[];
  requestBody?: { required?: boolean; content: Record<string, { schema: Schema }> };
  responses: Record<string, { content?: Record<string, { schema: Schema }> }>;
};
type Document = {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
};

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const key = (name: string) => (IDENTIFIER.test(name) ? name : JSON.stringify(name));
const pad = (depth: number) => '  '.repeat(depth);

/** A JSON Schema (2020-12, the subset zod emits) as a TypeScript type. */
function typeOf(schema: Schema | boolean | undefined, depth: number): string {
  if (schema === undefined || schema === true) return 'unknown';
  if (schema === false) return 'never';
  if (schema.$ref) return schema.$ref.replace('#/components/schemas/', '');
  if ('const' in schema) return JSON.stringify(schema.const);
  if (schema.enum) return schema.enum.map((value) => JSON.stringify(value)).join(' | ');
  if (schema.anyOf ?? schema.oneOf)
    return (schema.anyOf ?? schema.oneOf)!.map((part) => wrap(typeOf(part, depth))).join(' | ');
  if (schema.allOf) return schema.allOf.map((part) => wrap(typeOf(part, depth))).join(' & ');
  if (Array.isArray(schema.type))
    return schema.type.map((type) => typeOf({ ...schema, type }, depth)).join(' | ');
  switch (schema.type) {
    case 'string':
      return 'string';
    case 'integer':
    case 'number':
      return 'number';
    case 'boolean':
      return 'boolean';
    case 'null':
      return 'null';
    case 'array':
      if (schema.prefixItems) return `[${schema.prefixItems.map((item) => typeOf(item, depth)).join(', ')}]`;
      return `Array<${typeOf(schema.items, depth)}>`;
    case 'object':
      return objectType(schema, depth);
    default:
      return 'unknown';
  }
}

function objectType(schema: Schema, depth: number): string {
  const properties = Object.entries(schema.properties ?? {});
  const rest = schema.additionalProperties;
  if (properties.length === 0)
    return rest === false ? 'Record<string, never>' : `Record<string, ${typeOf(rest, depth)}>`;
  const required = new Set(schema.required ?? []);
  const lines = properties.map(([name, property]) => {
    const doc = property.description
      ? `${pad(depth + 1)}/** ${property.description.replaceAll('*/', '*\\/')} */\n`
      : '';
    return `${doc}${pad(depth + 1)}${key(name)}${required.has(name) ? '' : '?'}: ${typeOf(property, depth + 1)};`;
  });
  if (rest !== undefined && rest !== false) lines.push(`${pad(depth + 1)}[key: string]: unknown;`);
  return `{\n${lines.join('\n')}\n${pad(depth)}}`;
}

const wrap = (type: string) => (type.includes(' | ') || type.includes(' & ') ? `(${type})` : type);

function operationType(operation: Operation, method: string, path: string): string {
  const parameters = operation.parameters ?? [];
  const group = (where: string) => {
    const members = parameters.filter((parameter) => parameter.in === where);
    if (members.length === 0) return 'Record<string, never>';
    const required = members.filter((p) => p.required).map((p) => p.name);
    const properties = Object.fromEntries(
      members.map((p) => [p.name, where === 'path' ? { type: 'string' } : p.schema]),
    );
    return objectType({ type: 'object', properties, required }, 2);
  };
  const body = operation.requestBody?.content['application/json']?.schema;
  const [status, success] = Object.entries(operation.responses)[0]!;
  const content = Object.entries(success.content ?? {})[0];
  const response =
    content === undefined
      ? 'null'
      : content[0] === 'application/json'
        ? typeOf(content[1].schema, 2)
        : 'string';
  return [
    `  ${key(operation.operationId)}: {`,
    `    method: ${JSON.stringify(method)};`,
    `    path: ${JSON.stringify(path)};`,
    `    status: ${status};`,
    `    params: ${group('path')};`,
    `    query: ${group('query')};`,
    `    body: ${body === undefined ? 'undefined' : typeOf(body, 2)};`,
    `    response: ${response};`,
    '  };',
  ].join('\n');
}

/** The text of views/admin/openapi.d.ts for the admin API as the route table declares it now. */
export function consoleTypes(): string {
  const document = buildOpenApiDocument('https://lock.example', ADMIN_ROUTES) as unknown as Document;
  const components = Object.entries(document.components.schemas).map(
    ([name, schema]) => `export type ${name} = ${typeOf(schema, 0)};\n`,
  );
  const operations = Object.entries(document.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, operation]) => operationType(operation, method, path)),
  );
  return [
    '// Generated by scripts/console-types.ts from the admin API’s OpenAPI document. Do not edit:',
    '// run `node scripts/console-types.ts` after changing a route or a schema.',
    '',
    ...components,
    '/** Every admin API operation by operationId: path parameters, query, JSON body, success response. */',
    'export interface Operations {',
    ...operations,
    '}',
    '',
  ].join('\n');
}

if (import.meta.main) {
  const text = consoleTypes();
  if (process.argv.includes('--check')) {
    if (readFileSync(CONSOLE_TYPES_PATH, 'utf8') !== text) {
      console.error(`${CONSOLE_TYPES_PATH} is out of date: run node scripts/console-types.ts`);
      process.exit(1);
    }
  } else writeFileSync(CONSOLE_TYPES_PATH, text);
}
