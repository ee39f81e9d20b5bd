// @ts-check
// The admin API's OpenAPI document, read once at run time: the console takes operation paths and
// the choices its forms offer (enums, defaults) from it instead of keeping copies of the server's
// schemas.

/**
 * @typedef {object} JsonSchema
 * @property {string} [type]
 * @property {unknown} [const]
 * @property {unknown[]} [enum]
 * @property {unknown} [default]
 * @property {JsonSchema[]} [oneOf]
 * @property {JsonSchema[]} [anyOf]
 * @property {JsonSchema} [items]
 * @property {Record<string, JsonSchema>} [properties]
 */
/**
 * @typedef {object} OpenApiOperation
 * @property {string} operationId
 * @property {{ content: Record<string, { schema: JsonSchema }> }} [requestBody]
 */
/** @typedef {{ paths: Record<string, Record<string, OpenApiOperation>> }} OpenApiDocument */

/** @type {Promise<OpenApiDocument> | undefined} */
let loading;

/** @returns {Promise<OpenApiDocument>} */
export function apiDocument() {
  loading ??= fetch('/admin/api/v1/openapi.json')
    .then((response) => {
      if (!response.ok) throw new Error(`The admin API document did not load (${response.status}).`);
      return response.json();
    })
    .catch((error) => {
      loading = undefined; // the next call tries again
      throw error;
    });
  return loading;
}

/**
 * The JSON body schema of an operation's request.
 * @param {keyof import('./openapi').Operations} operationId
 * @returns {Promise<JsonSchema>}
 */
export async function requestSchema(operationId) {
  const document = await apiDocument();
  for (const methods of Object.values(document.paths))
    for (const operation of Object.values(methods))
      if (operation.operationId === operationId)
        return operation.requestBody?.content['application/json']?.schema ?? {};
  throw new Error(`The admin API has no operation ${operationId}`);
}

/**
 * Walks down a schema: a property name descends into `properties` (or an array's items), `type=x`
 * picks the branch of a oneOf whose `type` property is the constant x (a connector type).
 * @param {JsonSchema} schema
 * @param {string[]} steps
 * @returns {JsonSchema}
 */
export function schemaAt(schema, ...steps) {
  let at = schema;
  for (const step of steps) {
    const branch = step.match(/^type=(.+)$/)?.[1];
    const next = branch
      ? at.oneOf?.find((variant) => variant.properties?.type?.const === branch)
      : (at.properties ?? at.items?.properties)?.[step];
    if (next === undefined) throw new Error(`The admin API document has no ${steps.join('.')}`);
    at = next;
  }
  return at;
}

/**
 * The values a string field may take (of an array: its items').
 * @param {JsonSchema} schema
 * @returns {string[]}
 */
export function choicesOf(schema) {
  return /** @type {string[]} */ ((schema.items ?? schema).enum ?? []);
}

/**
 * Options for a <select>: every value the API accepts, with a label where the console has one.
 * @param {JsonSchema} schema
 * @param {Record<string, string>} labels
 * @returns {Array<[string, string]>}
 */
export function optionsOf(schema, labels) {
  return choicesOf(schema).map((value) => [value, labels[value] ?? value]);
}
