import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CONNECTOR_CONFIG_SCHEMAS } from '../../src/connectors/config-schemas.ts';
import { sealConnectorSecrets, withoutConnectorSecrets } from '../../src/connectors/connector-secrets.ts';
import { mapClaims, readClaimPath } from '../../src/connectors/federation/claim-mapping.ts';
import { connectorTypeModule } from '../../src/connectors/registry.ts';
import { SecretBox } from '../../src/security/secret-box.ts';

// The config a connector of type oidc is saved with (declarative file, admin API): the documented
// defaults, and a refusal that names the field.
describe('oidc connector config', () => {
  const schema = CONNECTOR_CONFIG_SCHEMAS.oidc;
  const base = { issuer: 'https://login.example.com/tenant/v2.0', clientId: 'lock', clientSecret: 's3cret' };
  const problems = (config: Record<string, unknown>) => {
    const result = schema.safeParse(config);
    return result.success
      ? []
      : result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  };

  it('fills in the documented defaults', () => {
    const config = schema.parse(base);
    assert.deepEqual(config.scopes, ['openid', 'profile', 'email']);
    assert.deepEqual(config.claims, {
      username: 'preferred_username',
      email: 'email',
      name: 'name',
      groups: 'groups',
    });
    assert.equal(config.refreshInterval, 300);
    assert.equal(config.trustEmail, false, 'an unverified email is not carried unless the admin says so');
    assert.equal(config.clientAuth, 'client_secret_basic');
    assert.equal(config.timeoutSeconds, 5);
    assert.equal(config.clockToleranceSeconds, 30);
    assert.equal(config.allowInsecureIssuer, false);
  });

  it('refuses a plain-http issuer without allowInsecureIssuer', () => {
    assert.match(
      problems({ ...base, issuer: 'http://login.example.com' }).join('\n'),
      /^issuer: must be an https:\/\/ URL/m,
    );
    assert.deepEqual(
      problems({ ...base, issuer: 'http://login.example.com', allowInsecureIssuer: true }),
      [],
    );
  });

  it('names each bad field: a missing secret, scopes without openid, a symmetric algorithm, an unknown member', () => {
    const found = problems({
      issuer: base.issuer,
      clientId: 'lock',
      scopes: ['profile'],
      idTokenSigningAlg: 'HS256',
      claims: { id: 'id' },
      surprise: true,
    }).join('\n');
    assert.match(found, /^clientSecret: required with clientAuth client_secret_basic/m);
    assert.match(found, /^scopes: must include openid/m);
    assert.match(found, /^idTokenSigningAlg: /m);
    assert.match(found, /^claims: /m, 'the person is iss + sub: no id mapping');
    assert.match(found, /surprise/);
    assert.deepEqual(
      problems({ issuer: base.issuer, clientId: 'lock', clientAuth: 'none' }),
      [],
      'a public client',
    );
  });

  it('the client secret is sealed at rest, never shown, and bound to the issuer it was saved for', () => {
    const box = new SecretBox(Buffer.alloc(32, 7));
    const config = schema.parse(base);
    const sealed = sealConnectorSecrets.seal(config, box, 'corp');
    assert.doesNotMatch(JSON.stringify(sealed), /s3cret/);
    assert.equal(sealConnectorSecrets.open(sealed, box, 'corp').clientSecret, 's3cret');
    const shown = withoutConnectorSecrets(sealed);
    assert.deepEqual(shown.setSecrets, ['clientSecret']);
    assert.equal(shown.config.clientSecret, undefined);
    assert.deepEqual(connectorTypeModule('oidc')?.upstreamSecrets, {
      target: ['issuer', 'allowInsecureIssuer'],
      secrets: ['clientSecret'],
    });
  });
});

describe('claim mapping by paths', () => {
  const userinfo = {
    sub: '1',
    login: 'octocat',
    profile: { display: 'The Octocat', emails: [{ address: 'o@example.com' }] },
    orgs: [{ login: 'github' }, { login: 'lock' }, { name: 'no login' }],
    roles: 'single',
    id: 583231,
  };

  it('reads dot paths, list paths and numbers; anything else is absent, never an error', () => {
    assert.equal(readClaimPath(userinfo, 'profile.display'), 'The Octocat');
    assert.deepEqual(readClaimPath(userinfo, 'orgs[].login'), ['github', 'lock']);
    assert.deepEqual(readClaimPath([{ login: 'a' }, { login: 'b' }], '[].login'), ['a', 'b']);
    assert.deepEqual(readClaimPath(['x', 'y'], '[]'), ['x', 'y']);
    assert.equal(readClaimPath(userinfo, 'profile.missing.deeper'), undefined);
    assert.equal(readClaimPath(userinfo, 'constructor'), undefined, 'only own members');
    assert.deepEqual(
      mapClaims(userinfo, {
        id: 'id',
        username: 'login',
        email: 'profile.emails[].address',
        name: 'profile.display',
        groups: 'orgs[].login',
      }),
      { id: '583231', username: 'octocat', name: 'The Octocat', groups: ['github', 'lock'] },
      'a list where one value is wanted is no value',
    );
    assert.deepEqual(
      mapClaims(userinfo, { username: 'login', email: 'e', name: 'n', groups: 'roles' }).groups,
      ['single'],
    );
  });
});
