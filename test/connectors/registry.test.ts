import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CONNECTOR_CONFIG_SCHEMAS } from '../../src/connectors/config-schemas.ts';
import { CONNECTOR_TYPE_MODULES } from '../../src/connectors/registry.ts';

// A type is its folder and its entry in the registry's list; the config schemas are the modules' own.
describe('connector type registry', () => {
  it('each type module is listed once, and each config schema is the module’s own', () => {
    const types = CONNECTOR_TYPE_MODULES.map((module) => module.type);
    assert.equal(new Set(types).size, types.length);
    assert.deepEqual(Object.keys(CONNECTOR_CONFIG_SCHEMAS).sort(), [...types].sort());
    for (const module of CONNECTOR_TYPE_MODULES)
      assert.equal(
        CONNECTOR_CONFIG_SCHEMAS[module.type],
        module.configSchema,
        `${module.type}: config-schemas.ts has another schema than connectors/${module.type}/index.ts`,
      );
  });

  it('a redirect type declares a callback route of its own under its type and with the connector id', () => {
    const paths = CONNECTOR_TYPE_MODULES.flatMap((module) =>
      'redirect' in module ? [module.redirect.callbackRoute.path] : [],
    );
    assert.ok(paths.length > 0);
    for (const path of paths) assert.match(path, /:connector\b/);
    assert.equal(new Set(paths).size, paths.length);
  });
});
