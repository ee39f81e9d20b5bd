import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CONNECTOR_CONFIG_SCHEMAS } from '../../src/connectors/config-schemas.ts';
import { SSO_CALLBACK_ROUTE, ssoCallbackUrl } from '../../src/connectors/federation/callback-route.ts';
import { CONNECTOR_TYPE_MODULES } from '../../src/connectors/registry.ts';
import { callbackRoutes } from '../../src/interactions/sso-routes.ts';

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

  it('a redirect type answers at a callback route with the connector id; a shared route is mounted once', () => {
    const paths = CONNECTOR_TYPE_MODULES.flatMap((module) =>
      'redirect' in module ? [module.redirect.callbackRoute.path] : [],
    );
    assert.ok(paths.length > 0);
    for (const path of paths) assert.match(path, /:connector\b/);
    const mounted = callbackRoutes();
    const keys = mounted.map(({ route }) => `${route.method} ${route.path}`);
    assert.equal(new Set(keys).size, keys.length, 'each route is mounted once');
    assert.deepEqual(
      mounted.flatMap(({ types }) => [...types]).sort(),
      CONNECTOR_TYPE_MODULES.filter((module) => 'redirect' in module)
        .map((module) => module.type)
        .sort(),
      'every redirect type answers at one mounted route',
    );
    // The redirect URI an admin registers upstream (DESIGN.md, contract additions).
    const sso = mounted.find(({ route }) => route.path === SSO_CALLBACK_ROUTE.path);
    assert.ok(sso?.types.has('oidc'), 'oidc answers at /sso/:connector/callback');
    assert.ok(sso?.types.has('oauth2'), 'oauth2 answers at /sso/:connector/callback');
    assert.equal(SSO_CALLBACK_ROUTE.method, 'get');
    assert.equal(
      ssoCallbackUrl('https://lock.example.com/', 'corp-entra'),
      'https://lock.example.com/sso/corp-entra/callback',
    );
    assert.ok(mounted.some(({ route, types }) => route.path === '/saml/:connector/acs' && types.has('saml')));
  });
});
