import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { postForm, type RunningLock, startLock } from '../helpers/lock.ts';
import { commandEnv, lockCommand } from '../helpers/lock-command.ts';
import { ALICE_PASSWORD, API, loginConfig, signInToWebApp } from '../helpers/login-fixtures.ts';

describe('lock users / lock clients', () => {
  let lock: RunningLock;
  const run = (args: string[], stdin?: string) =>
    lockCommand(args, { env: commandEnv(lock), ...(stdin !== undefined && { stdin }) });
  const signInAs = (username: string, password: string) => signInToWebApp(lock.issuer, username, password);

  before(async () => {
    lock = await startLock({ config: loginConfig });
  });
  after(async () => {
    await lock.close();
    await lock.database.drop();
  });

  it('adds a user whose password is read from stdin, refusing weak passwords', async () => {
    const weak = await run(['users', 'add', 'dave'], 'password123\n');
    assert.equal(weak.code, 2, 'refused input: exit 2');
    assert.match(weak.stderr, /password: .*common/i);
    const added = await run(
      ['users', 'add', 'dave', '--email', 'dave@example.com', '--group', 'editors'],
      'a sturdy passphrase for dave\n',
    );
    assert.equal(added.code, 0, added.stderr);
    const duplicate = await run(['users', 'add', 'DAVE'], 'another sturdy passphrase\n');
    assert.match(duplicate.stderr, /already exists/);
    const list = await run(['users', 'list']);
    assert.match(list.stdout, /dave\s+active\s+editors\s+app_readwrite/);
    const { tokens } = await signInAs('dave', 'a sturdy passphrase for dave');
    assert.ok(tokens?.access_token);
  });

  it('disabling a user ends their sessions and refresh tokens', async () => {
    const { tokens, config } = await signInAs('alice', ALICE_PASSWORD);
    assert.ok(tokens?.refresh_token);
    const disabled = await run(['users', 'disable', 'alice']);
    assert.match(disabled.stdout, /disabled alice; ended [1-9]\d* sessions and tokens/);
    await assert.rejects(
      oidc.refreshTokenGrant(config!, tokens.refresh_token),
      (error: oidc.ResponseBodyError) => error.error === 'invalid_grant',
    );
    const again = await signInAs('alice', ALICE_PASSWORD);
    assert.match(again.html, /This account is disabled/);
    await run(['users', 'enable', 'alice']);
    assert.ok((await signInAs('alice', ALICE_PASSWORD)).tokens);
  });

  it('a password change can end the other sessions', async () => {
    const { tokens, config } = await signInAs('bob', 'Tr0ub4dor&3-but-longer');
    const changed = await run(
      ['users', 'passwd', 'bob', '--end-sessions'],
      'a brand new passphrase for bob\n',
    );
    assert.equal(changed.code, 0, changed.stderr);
    await assert.rejects(oidc.refreshTokenGrant(config!, tokens!.refresh_token!));
    assert.equal((await signInAs('bob', 'Tr0ub4dor&3-but-longer')).landed, undefined);
    assert.ok((await signInAs('bob', 'a brand new passphrase for bob')).tokens);
  });

  it('adds a service client whose secret is shown once and works at once', async () => {
    const added = await run([
      'clients',
      'add',
      'nightly-report',
      '--grant-type',
      'client_credentials',
      '--role',
      'app_readonly',
      '--resource',
      API,
    ]);
    assert.equal(added.code, 0, added.stderr);
    const secret = /client secret \(shown once, store it now\): (\S+)/.exec(added.stdout)?.[1];
    assert.ok(secret);
    let token: Awaited<ReturnType<typeof postForm>> | undefined;
    for (let attempt = 0; attempt < 40 && token?.status !== 200; attempt++) {
      token = await postForm(`${lock.issuer}/token`, { grant_type: 'client_credentials', resource: API }, [
        'nightly-report',
        secret,
      ]);
      if (token.status !== 200) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(token?.status, 200, 'the running Lock picks the new client up without a restart');
    const list = await run(['clients', 'list']);
    assert.match(list.stdout, /nightly-report\s+confidential\s+client_credentials\s+admin/);
    assert.doesNotMatch(list.stdout, new RegExp(secret));
    const bad = await run(['clients', 'add', 'broken', '--grant-type', 'password']);
    assert.match(bad.stderr, /grantTypes\[0\]: must be one of/);
  });

  it('adds a client with its ID token signing algorithm, and refuses one Lock does not sign with', async () => {
    const added = await run([
      'clients',
      'add',
      'es-web',
      '--redirect-uri',
      'https://es.example.com/callback',
      '--id-token-signing-alg',
      'ES256',
    ]);
    assert.equal(added.code, 0, added.stderr);
    const list = await run(['clients', 'list', '--json']);
    const items = JSON.parse(list.stdout).items as Array<{ clientId: string; idTokenSigningAlg: string }>;
    assert.equal(items.find((client) => client.clientId === 'es-web')?.idTokenSigningAlg, 'ES256');
    assert.equal(items.find((client) => client.clientId === 'nightly-report')?.idTokenSigningAlg, 'RS256');
    const bad = await run([
      'clients',
      'add',
      'hs-web',
      '--redirect-uri',
      'https://hs.example.com/callback',
      '--id-token-signing-alg',
      'HS256',
    ]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /idTokenSigningAlg: must be one of "RS256", "ES256", "EdDSA"/);
  });
});
