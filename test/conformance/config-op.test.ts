import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assertAllEndpointsHttps, fetchDiscovery } from './discovery-checks.ts';
import { startTlsOp } from './op.ts';

/**
 * The OpenID Foundation's Config OP certification plan (oidcc-config-certification-test-plan,
 * discovery, static client): its one module, against a Lock serving HTTPS itself.
 */
describe('Config OP conformance (oidcc-config-certification-test-plan)', () => {
  let op: Awaited<ReturnType<typeof startTlsOp>>;
  before(async () => {
    op = await startTlsOp();
  });
  after(async () => {
    await op.lock.close();
    await op.lock.database.drop();
  });

  it('oidcc-discovery-endpoint-verification', async () => {
    const discovery = await fetchDiscovery(op);
    const array = (name: string) => {
      const value = discovery[name];
      assert.ok(Array.isArray(value) && value.length > 0, `${name} is a non-empty array`);
      return value as string[];
    };

    // OIDCCCheckDiscEndpointResponseTypesSupported: at least one OIDC response type.
    assert.ok(array('response_types_supported').includes('code'));
    // CheckDiscEndpointDiscoveryUrl, CheckDiscEndpointIssuer, CheckDiscEndpointIssuerIsValidUrl.
    assert.equal(discovery.issuer, op.lock.issuer, 'issuer is the URL discovery was fetched from');
    const issuer = new URL(String(discovery.issuer));
    assert.equal(issuer.protocol, 'https:');
    assert.equal(issuer.search + issuer.hash, '', 'no query or fragment in the issuer');
    // CheckDiscEndpointSubjectTypesSupported.
    for (const type of array('subject_types_supported')) assert.ok(['public', 'pairwise'].includes(type));
    // OIDCCCheckDiscEndpointIdTokenSigningAlgValuesSupported: RS256 is required, none is not offered.
    assert.ok(array('id_token_signing_alg_values_supported').includes('RS256'));
    assert.ok(!array('id_token_signing_alg_values_supported').includes('none'));
    // OIDCCCheckDiscEndpointUserinfoSigningAlgValuesSupported (only if present).
    if ('userinfo_signing_alg_values_supported' in discovery) array('userinfo_signing_alg_values_supported');
    // CheckDiscEndpointAuthorizationEndpoint, TokenEndpoint, UserinfoEndpoint: present and https.
    for (const name of ['authorization_endpoint', 'token_endpoint', 'userinfo_endpoint'])
      assert.equal(new URL(String(discovery[name])).protocol, 'https:', name);
    // CheckDiscEndpointRegistrationEndpoint (only if present): an https URL.
    if ('registration_endpoint' in discovery)
      assert.equal(new URL(String(discovery.registration_endpoint)).protocol, 'https:');
    // CheckJwksUri, FetchServerKeys, ValidateJwksSequence: public signing keys, unique kids.
    const jwks = await op.get(String(discovery.jwks_uri));
    assert.equal(jwks.status, 200);
    const keys = (JSON.parse(jwks.body) as { keys: Record<string, unknown>[] }).keys;
    assert.ok(keys.length > 0);
    assert.equal(new Set(keys.map((key) => key.kid)).size, keys.length, 'kids are unique');
    for (const key of keys) {
      assert.equal(typeof key.kty, 'string');
      assert.ok(key.use === undefined || key.use === 'sig');
      for (const secret of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'])
        assert.ok(!(secret in key), `no private ${secret}`);
    }
    assert.ok(
      keys.some((key) => key.kty === 'RSA'),
      'an RSA key for RS256',
    );
    // CheckDiscEndpointRequestParameterSupported / RequestUriParameterSupported /
    // ClaimsParameterSupported: booleans when present (Lock: false, reported as info).
    for (const name of [
      'request_parameter_supported',
      'request_uri_parameter_supported',
      'claims_parameter_supported',
    ])
      if (name in discovery) assert.equal(discovery[name], false, name);
    assert.ok(!('request_object_signing_alg_values_supported' in discovery));
    // OIDCCCheckDiscEndpointClaimsSupported: an array when present (recommended).
    assert.ok(array('claims_supported').includes('sub'));
    // OIDCCCheckDiscEndpointGrantTypesSupported: a non-empty array when present.
    assert.ok(array('grant_types_supported').includes('authorization_code'));
    // CheckDiscEndpointScopesSupportedContainsOpenId, CheckDiscEndpointScopesSupportedSyntax.
    for (const scope of array('scopes_supported')) assert.match(scope, /^[\x21\x23-\x5b\x5d-\x7e]+$/);
    assert.ok(array('scopes_supported').includes('openid'));
    // CheckDiscEndpointLocalesSyntax / CanonicalCasing (only if present): BCP 47 tags.
    for (const name of ['ui_locales_supported', 'claims_locales_supported'])
      if (name in discovery)
        for (const tag of array(name)) assert.equal(Intl.getCanonicalLocales(tag)[0], tag);
    // EnsureServerConfigurationCodeChallengeMethodsSupportedIsAnArray: S256 only.
    assert.deepEqual(discovery.code_challenge_methods_supported, ['S256']);
    // CheckDiscEndpointAllEndpointsAreHttps.
    assertAllEndpointsHttps(discovery);
  });
});
