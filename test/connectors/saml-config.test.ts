import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import pino from 'pino';
import { CONNECTOR_CONFIG_SCHEMAS } from '../../src/connectors/config-schemas.ts';
import type { SamlConfig } from '../../src/connectors/saml/config.ts';
import { IdpMetadataSource } from '../../src/connectors/saml/idp-metadata-source.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { startLock } from '../helpers/lock.ts';
import { plainConnectorConfig, samlLockConfig } from './saml-fixtures.ts';
import { makeKeyPair } from './saml-helpers.ts';

// The config a connector of type saml is saved with (declarative file, admin API): refused with a
// message that names the field.
describe('SAML connector config', () => {
  const schema = CONNECTOR_CONFIG_SCHEMAS.saml;
  let keys: { certificate: string; privateKey: string };
  let other: { certificate: string; privateKey: string };
  const url = 'https://idp.example.com/metadata';

  before(async () => {
    [keys, other] = await Promise.all([makeKeyPair('SP'), makeKeyPair('Someone else')]);
  });

  const problems = (config: Record<string, unknown>) => {
    const result = schema.safeParse(config);
    return result.success
      ? []
      : result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  };

  it('fills in the documented defaults', () => {
    const config = schema.parse({ idpMetadataUrl: url });
    assert.equal(config.wantAssertionsSigned, true);
    assert.equal(config.wantResponseSigned, false);
    assert.equal(config.signAuthnRequests, false);
    assert.equal(config.clockSkewSeconds, 60);
    assert.equal(config.idpMetadataRefreshSeconds, 3600);
    assert.equal(config.maxSessionAgeSeconds, 8 * 3600);
    assert.equal(config.nameIdFormat, 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent');
    assert.deepEqual(config.idpInitiated, { enabled: false, loginTtlSeconds: 120 }, 'unsolicited: refused');
  });

  const cases: Array<[string, () => Record<string, unknown>, RegExp]> = [
    ['no metadata source', () => ({}), /idpMetadataUrl: give exactly one of/],
    ['two metadata sources', () => ({ idpMetadataUrl: url, idpMetadataXml: '<x/>' }), /give exactly one of/],
    [
      'a metadata URL that is not http(s)',
      () => ({ idpMetadataUrl: 'file:///etc/passwd' }),
      /idpMetadataUrl: must be an http\(s\) URL/,
    ],
    [
      'nothing signed',
      () => ({ idpMetadataUrl: url, wantAssertionsSigned: false }),
      /wantAssertionsSigned: an unsigned login cannot be trusted/,
    ],
    [
      'signed requests without a key',
      () => ({ idpMetadataUrl: url, signAuthnRequests: true }),
      /spPrivateKey: signAuthnRequests needs/,
    ],
    [
      'encrypted assertions without a key',
      () => ({ idpMetadataUrl: url, wantAssertionsEncrypted: true }),
      /spEncryptionPrivateKey: wantAssertionsEncrypted needs/,
    ],
    [
      'a certificate without its key',
      () => ({ idpMetadataUrl: url, spCertificate: keys.certificate }),
      /spPrivateKey: spCertificate and spPrivateKey go together/,
    ],
    [
      'a key that is not the certificate’s',
      () => ({ idpMetadataUrl: url, spCertificate: keys.certificate, spPrivateKey: other.privateKey }),
      /spPrivateKey: is not the private key of spCertificate/,
    ],
    [
      'a certificate that is not PEM',
      () => ({ idpMetadataUrl: url, spCertificate: 'MIIB...', spPrivateKey: keys.privateKey }),
      /spCertificate: must be a PEM X.509 certificate/,
    ],
    [
      'a custom claim that would replace sub',
      () => ({ idpMetadataUrl: url, claims: { sub: 'uid' } }),
      /claims.sub: is a claim Lock sets itself/,
    ],
    [
      'a clock skew over 10 minutes',
      () => ({ idpMetadataUrl: url, clockSkewSeconds: 3600 }),
      /clockSkewSeconds/,
    ],
    ['an unknown field', () => ({ idpMetadataUrl: url, wantAssertionSigned: true }), /wantAssertionSigned/],
    [
      'a made-up switch for unsolicited responses',
      () => ({ idpMetadataUrl: url, allowUnsolicited: true }),
      /allowUnsolicited/,
    ],
    [
      'IdP-initiated logins without a client',
      () => ({
        idpMetadataUrl: url,
        idpInitiated: { enabled: true, initiateLoginUri: 'https://app.example.com/login' },
      }),
      /idpInitiated.clientId: is required when idpInitiated.enabled is true/,
    ],
    [
      'IdP-initiated logins without the client’s login initiation endpoint',
      () => ({ idpMetadataUrl: url, idpInitiated: { enabled: true, clientId: 'web-app' } }),
      /idpInitiated.initiateLoginUri: is required when idpInitiated.enabled is true/,
    ],
    [
      'a plain-http login initiation endpoint off loopback',
      () => ({
        idpMetadataUrl: url,
        idpInitiated: {
          enabled: true,
          clientId: 'web-app',
          initiateLoginUri: 'http://app.example.com/login',
        },
      }),
      /idpInitiated.initiateLoginUri: must be an https URL \(http only on localhost\)/,
    ],
    [
      'a login initiation endpoint that is not a URL',
      () => ({
        idpMetadataUrl: url,
        idpInitiated: { enabled: true, clientId: 'web-app', initiateLoginUri: 'javascript:alert(1)' },
      }),
      /idpInitiated.initiateLoginUri/,
    ],
    [
      'an unknown field under idpInitiated',
      () => ({
        idpMetadataUrl: url,
        idpInitiated: { enabled: false, redirectUri: 'https://app.example.com/' },
      }),
      /redirectUri/,
    ],
    [
      'an IdP-initiated login waiting longer than 15 minutes',
      () => ({ idpMetadataUrl: url, idpInitiated: { loginTtlSeconds: 3600 } }),
      /idpInitiated.loginTtlSeconds/,
    ],
  ];
  cases.push([
    'a plain-http metadata URL without allowInsecureMetadataUrl',
    () => ({ idpMetadataUrl: 'http://idp.example.com/metadata' }),
    /^idpMetadataUrl: must be an https:\/\/ URL: over plain http anyone on the path can swap the IdP signing certificate/,
  ]);
  for (const [what, config, expected] of cases)
    it(`refuses ${what}`, () => {
      const found = problems(config());
      assert.ok(
        found.some((problem) => expected.test(problem)),
        found.join('\n'),
      );
      assert.ok(!found.join().includes('PRIVATE KEY'), 'never echoes a key');
    });

  it('accepts a complete signing + encryption config', () => {
    assert.deepEqual(
      problems({
        idpMetadataFile: '/etc/lock/idp.xml',
        spCertificate: keys.certificate,
        spPrivateKey: keys.privateKey,
        signAuthnRequests: true,
        wantAssertionsEncrypted: true,
        wantResponseSigned: true,
        requestedAuthnContext: {
          classRefs: ['urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport'],
        },
        claims: { department: 'urn:oid:2.5.4.11' },
      }),
      [],
    );
  });

  it('accepts IdP-initiated logins for a client, https or on loopback', () => {
    for (const initiateLoginUri of ['https://app.example.com/oidc/initiate', 'http://127.0.0.1:8080/login'])
      assert.deepEqual(
        problems({
          idpMetadataUrl: url,
          idpInitiated: {
            enabled: true,
            clientId: 'web-app',
            initiateLoginUri,
            targetLinkUri: 'https://app.example.com/',
          },
        }),
        [],
      );
  });

  it('accepts a plain-http metadata URL only with allowInsecureMetadataUrl: true (development)', () => {
    assert.deepEqual(
      problems({ idpMetadataUrl: 'http://idp.example.com/metadata', allowInsecureMetadataUrl: true }),
      [],
    );
  });

  it('Lock does not start with the real IdP’s http:// metadata URL without the flag, naming the field', async () => {
    const config = plainConnectorConfig();
    delete (config as Record<string, unknown>).allowInsecureMetadataUrl;
    const started = await startLock({
      config: samlLockConfig([{ id: 'partner', name: 'Partner SSO', config }]),
    }).then(
      async (lock) => {
        await lock.close();
        await lock.database.drop();
        return undefined;
      },
      (error: Error) => error,
    );
    assert.ok(started, 'Lock started with a plain-http metadata URL');
    assert.match(started.message, /connectors\[1\]\.config\.idpMetadataUrl: must be an https:\/\/ URL/);
    assert.match(started.message, /allowInsecureMetadataUrl/);
  });

  it('with the flag, every load of http:// metadata warns in the log', async () => {
    const database = await createTestDatabase();
    const lines: string[] = [];
    const log = pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) });
    let clock = Date.now();
    const source = new IdpMetadataSource({
      connectorId: 'partner',
      config: schema.parse(plainConnectorConfig({ idpMetadataRefreshSeconds: 60 })) as SamlConfig,
      db: database.pool,
      log,
      now: () => new Date(clock),
    });
    try {
      const idp = await source.descriptor();
      assert.match(idp.ssoRedirectUrl, /^http:\/\/127\.0\.0\.2:/);
      clock += 61_000;
      await source.descriptor();
      const warnings = lines.filter((line) =>
        /plain http \(allowInsecureMetadataUrl\).*development only/.test(line),
      );
      assert.equal(warnings.length, 2, lines.join('\n'));
      assert.match(warnings[0]!, /"connector":"partner"/);
    } finally {
      await database.drop();
    }
  });
});
