import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CONNECTOR_CONFIG_SCHEMAS } from '../../src/connectors/config-schemas.ts';
import { sealConnectorSecrets, withoutConnectorSecrets } from '../../src/connectors/connector-secrets.ts';
import { mapUpstreamUser } from '../../src/connectors/oauth2/user-mapping.ts';
import { SecretBox } from '../../src/security/secret-box.ts';

// The config a connector of type oauth2 is saved with (declarative file, admin API): the documented
// defaults, refusals that name the field, and how the user's JSON becomes an identity.
describe('oauth2 connector config', () => {
  const schema = CONNECTOR_CONFIG_SCHEMAS.oauth2;
  const base = {
    authorizationUrl: 'https://github.com/login/oauth/authorize',
    tokenUrl: 'https://github.com/login/oauth/access_token',
    userinfoUrl: 'https://api.github.com/user',
    clientId: 'Iv1.lock',
    clientSecret: 's3cret',
  };
  const problems = (config: Record<string, unknown>) => {
    const result = schema.safeParse(config);
    return result.success
      ? []
      : result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  };

  it('fills in the documented defaults', () => {
    const config = schema.parse(base);
    assert.deepEqual(config.claims, { id: 'id', username: 'login', email: 'email', name: 'name' });
    assert.deepEqual(config.scopes, []);
    assert.equal(config.trustEmail, false, 'plain OAuth 2.0 says nothing of verification');
    assert.equal(config.refreshInterval, 300);
    assert.equal(config.timeoutSeconds, 5);
    assert.equal(config.clientAuth, 'client_secret_post');
    assert.equal(config.groupsUrl, undefined);
  });

  it('refuses plain http to an upstream that is not on this machine, naming the field', () => {
    assert.match(
      problems({ ...base, tokenUrl: 'http://github.example.com/token' }).join('\n'),
      /^tokenUrl: must be an https URL \(http only on a loopback host\)/,
    );
    assert.deepEqual(problems({ ...base, userinfoUrl: 'http://127.0.0.2:8080/user' }), []);
    assert.match(problems({ ...base, groupsUrl: 'ftp://example.com/orgs' }).join('\n'), /^groupsUrl: /);
  });

  it('requires the endpoints and the client, and refuses unknown members and bad claim paths', () => {
    const missing = problems({}).join('\n');
    for (const field of ['authorizationUrl', 'tokenUrl', 'userinfoUrl', 'clientId', 'clientSecret'])
      assert.match(missing, new RegExp(`^${field}: `, 'm'));
    assert.match(problems({ ...base, issuer: 'https://x' }).join('\n'), /issuer/);
    assert.match(problems({ ...base, claims: { id: 'a..b' } }).join('\n'), /^claims\.id: /);
    assert.match(problems({ ...base, refreshInterval: -1 }).join('\n'), /^refreshInterval: /);
  });

  it('seals clientSecret at rest and never shows it', () => {
    const box = new SecretBox(Buffer.alloc(32, 7));
    const sealed = sealConnectorSecrets.seal(schema.parse(base), box, 'github');
    assert.notEqual(sealed.clientSecret, 's3cret');
    assert.equal(sealConnectorSecrets.open(sealed, box, 'github').clientSecret, 's3cret');
    const shown = withoutConnectorSecrets(sealed);
    assert.equal(shown.config.clientSecret, undefined);
    assert.deepEqual(shown.setSecrets, ['clientSecret']);
  });

  it('maps GitHub’s user and organisations: id as text, groups by [].login, email only when trusted', () => {
    const user = { id: 583231, login: 'octocat', name: 'Mona', email: 'octocat@github.com' };
    const orgs = [{ login: 'github' }, { login: 'admins' }, { id: 3 }];
    const config = schema.parse({
      ...base,
      groupsUrl: 'https://api.github.com/user/orgs',
      claims: { groups: '[].login' },
    });
    assert.deepEqual(mapUpstreamUser(config, user, orgs), {
      upstreamId: '583231',
      username: 'octocat',
      name: 'Mona',
      groups: ['github', 'admins'],
    });
    const trusting = schema.parse({ ...base, trustEmail: true });
    const mapped = mapUpstreamUser(trusting, user, undefined);
    assert.equal(typeof mapped === 'object' && mapped.email, 'octocat@github.com');
    assert.match(String(mapUpstreamUser(config, { login: 'no-id' }, [])), /has no usable id/);
  });
});
