import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { argon2i, argon2id, hash } from 'argon2';
import {
  checkPasswordPolicy,
  DUMMY_HASH,
  hashPassword,
  PASSWORD_HASH_PARAMETERS,
  PasswordHashFormatError,
  verifyAgainstDummy,
  verifyPassword,
} from '../../src/security/passwords.ts';

const listedPasswords = async () =>
  (await readFile(new URL('../../src/security/common-passwords.txt', import.meta.url), 'utf8'))
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'));

const refusalOf = (password: string) => {
  const result = checkPasswordPolicy(password);
  assert.equal(result.ok, false, `expected ${JSON.stringify(password)} to be refused`);
  return result.ok ? '' : result.reason;
};
const assertAccepted = (password: string) =>
  assert.deepEqual(
    checkPasswordPolicy(password),
    { ok: true },
    `expected ${password.length} UTF-16 units to pass`,
  );

describe('password hashing', () => {
  it('hashes with argon2id at the documented parameters and a fresh salt each time', async () => {
    const { memoryCost, timeCost, parallelism } = PASSWORD_HASH_PARAMETERS;
    const first = await hashPassword('Passw0rd!x');
    const second = await hashPassword('Passw0rd!x');
    assert.match(
      first,
      new RegExp(`^\\$argon2id\\$v=19\\$m=${memoryCost},p=${parallelism},t=${timeCost}\\$`),
    );
    assert.ok(memoryCost >= 19_456 && timeCost >= 2 && parallelism >= 1, 'at least the OWASP minimum');
    assert.notEqual(first, second);
    assert.doesNotMatch(first, /Passw0rd/);
  });

  it('verifies the password exactly as typed: no trimming, no case folding, no normalisation', async () => {
    const stored = await hashPassword('Passw0rd!x');
    assert.deepEqual(await verifyPassword(stored, 'Passw0rd!x'), { valid: true, needsRehash: false });
    for (const other of [' Passw0rd!x', 'Passw0rd!x ', 'passw0rd!x', 'PASSW0RD!X', 'Passw0rd!', ''])
      assert.equal((await verifyPassword(stored, other)).valid, false, JSON.stringify(other));

    const composed = 'caf\u00e9-au-lait'; // é as one code point (NFC)
    const decomposed = composed.normalize('NFD'); // e + combining acute accent
    assert.notEqual(composed, decomposed);
    const storedComposed = await hashPassword(composed);
    assert.equal((await verifyPassword(storedComposed, composed)).valid, true);
    assert.equal((await verifyPassword(storedComposed, decomposed)).valid, false);
  });

  it('does not let a lone surrogate stand in for U+FFFD, which it encodes to', async () => {
    const stored = await hashPassword('abc\uFFFDdefgh');
    assert.equal((await verifyPassword(stored, 'abc\uFFFDdefgh')).valid, true);
    assert.equal((await verifyPassword(stored, 'abc\uD800defgh')).valid, false);
  });

  it('asks for a rehash when the stored hash was made with other parameters or another variant', async () => {
    const password = 'an older hash of mine';
    const weaker = await hash(password, { type: argon2id, memoryCost: 12_288, timeCost: 3, parallelism: 1 });
    assert.deepEqual(await verifyPassword(weaker, password), { valid: true, needsRehash: true });
    const otherVariant = await hash(password, { ...PASSWORD_HASH_PARAMETERS, type: argon2i });
    assert.deepEqual(await verifyPassword(otherVariant, password), { valid: true, needsRehash: true });
    assert.equal((await verifyPassword(weaker, 'not my password')).valid, false);
  });

  it('refuses a malformed stored hash with an error that does not quote it', async () => {
    const malformed = '$argon2id$v=19$m=47104,p=1,t=2$c2VjcmV0c2FsdA';
    await assert.rejects(verifyPassword(malformed, 'whatever1'), (error: unknown) => {
      assert.ok(error instanceof PasswordHashFormatError);
      assert.ok(!error.message.includes('c2VjcmV0c2FsdA'));
      return true;
    });
  });

  it('verifies unknown usernames against a dummy hash made with the current parameters', async () => {
    assert.equal(await verifyAgainstDummy('Passw0rd!x'), false);
    assert.equal(await verifyAgainstDummy(''), false);
    // A stale dummy would make unknown usernames cheaper, and so detectable by timing.
    assert.deepEqual(await verifyPassword(DUMMY_HASH, 'Passw0rd!x'), { valid: false, needsRehash: false });
  });
});

describe('password policy', () => {
  it('counts length in code points: 8 to 1024', () => {
    assert.match(refusalOf('kx7#Lq2'), /at least 8 characters/);
    assertAccepted('kx7#Lq2m');
    // Four emoji are eight UTF-16 units but four characters.
    assert.match(refusalOf('🔒🔑🐘🦊'), /at least 8 characters/);
    assertAccepted('🔒🔑🐘🦊🔒🔑🐘🦊');
    assertAccepted('ñandú-über-Straße');
    assertAccepted(`${'x'.repeat(128)}y`); // 129 characters
    assertAccepted('a1b2c3d4'.repeat(128));
    assert.match(refusalOf(`${'a1b2c3d4'.repeat(128)}e`), /at most 1024 characters/);
    assertAccepted('🦊🐘'.repeat(512)); // 1024 characters, 2048 UTF-16 units
    assert.match(refusalOf(`${'🦊🐘'.repeat(512)}🦊`), /at most 1024 characters/);
  });

  it('has no composition rules', () => {
    for (const password of ['only lower case words', 'ONLYUPPERCASE', '20250609173548', '!!??..,,;;::'])
      assertAccepted(password);
  });

  it('refuses common passwords, whatever their case', async () => {
    const listed = await listedPasswords();
    for (const password of ['password123', 'iloveyou', 'qwertyuiop', 'trustno1', 'passw0rd']) {
      assert.ok(listed.includes(password), `${password} is on the list`);
      assert.match(refusalOf(password), /most commonly used/);
    }
    assert.match(refusalOf('Password123'), /most commonly used/);
    assert.match(refusalOf('ILOVEYOU'), /most commonly used/);
    assertAccepted('password123 is what I used to use');
  });

  it('refuses every one of the 3000 listed passwords, all of which meet the length policy', async () => {
    const listed = await listedPasswords();
    assert.equal(listed.length, 3000);
    assert.equal(new Set(listed).size, 3000);
    for (const password of listed) assert.equal(checkPasswordPolicy(password).ok, false, password);
    assert.ok(listed.every((password) => [...password].length >= 8));
  });

  it('refuses one repeated character and simple sequences, which the list leaves out', async () => {
    const listed = await listedPasswords();
    for (const password of ['aaaaaaaa', '00000000', 'abcdefgh', '87654321', 'ZYXWVUTSRQ']) {
      assert.ok(!listed.includes(password.toLowerCase()), `${password} is not on the list`);
      assert.match(refusalOf(password), /repeated or a simple sequence/);
    }
    for (const password of ['abcdefgz', 'aaaaaaab', 'acegikmo']) assertAccepted(password);
  });

  it('refuses text that is not valid Unicode', () => {
    assert.match(refusalOf('abc\uD800defgh'), /not valid Unicode/);
  });
});
