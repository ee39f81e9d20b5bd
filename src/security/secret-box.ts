import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

const KEK_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const FORMAT = 'v1';

export class KeyEncryptionKeyError extends Error {
  override name = 'KeyEncryptionKeyError';
}

/**
 * Seals and opens secrets at rest with AES-256-GCM under the key-encryption key. Each sealed value
 * is bound to a context (e.g. `client_secret:web-app`) so a ciphertext cannot be moved to another row.
 */
export class SecretBox {
  readonly #key: Buffer;

  constructor(key: Buffer) {
    if (key.length !== KEK_BYTES)
      throw new KeyEncryptionKeyError(`the key-encryption key must be ${KEK_BYTES} bytes`);
    this.#key = key;
  }

  seal(plaintext: string, context: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    cipher.setAAD(Buffer.from(context));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return `${FORMAT}:${Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url')}`;
  }

  /** Throws when the value was sealed under another key or context, or was altered. */
  open(sealed: string, context: string): string {
    const [format, encoded] = sealed.split(':', 2);
    if (format !== FORMAT || !encoded) throw new KeyEncryptionKeyError('not a sealed value');
    const bytes = Buffer.from(encoded, 'base64url');
    const iv = bytes.subarray(0, IV_BYTES);
    const tag = bytes.subarray(bytes.length - TAG_BYTES);
    const decipher = createDecipheriv('aes-256-gcm', this.#key, iv);
    decipher.setAAD(Buffer.from(context));
    decipher.setAuthTag(tag);
    return Buffer.concat([
      decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)),
      decipher.final(),
    ]).toString('utf8');
  }
}

export interface KekSource {
  /** Base64 (or base64url) of 32 bytes, e.g. from a secret store; wins over the file. */
  kek?: string | undefined;
  keysDir: string;
}

/** Loads the KEK from the environment or `<keysDir>/kek`, generating the file (0600) on first start. */
export async function loadKeyEncryptionKey({
  kek,
  keysDir,
}: KekSource): Promise<{ key: Buffer; source: string; generated: boolean }> {
  if (kek) return { key: decodeKek(kek, 'LOCK_KEK'), source: 'LOCK_KEK', generated: false };
  const path = join(resolve(keysDir), 'kek');
  if (existsSync(path))
    return { key: decodeKek((await readFile(path, 'utf8')).trim(), path), source: path, generated: false };
  await mkdir(resolve(keysDir), { recursive: true, mode: 0o700 });
  const key = randomBytes(KEK_BYTES);
  await writeFile(path, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' }).catch(async (error) => {
    // Another process created it first: use theirs.
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  });
  const stored = decodeKek((await readFile(path, 'utf8')).trim(), path);
  return { key: stored, source: path, generated: stored.equals(key) };
}

function decodeKek(value: string, source: string): Buffer {
  const key = Buffer.from(value, value.includes('-') || value.includes('_') ? 'base64url' : 'base64');
  if (key.length !== KEK_BYTES)
    throw new KeyEncryptionKeyError(
      `${source}: the key-encryption key must be ${KEK_BYTES} bytes, base64-encoded (got ${key.length} bytes)`,
    );
  return key;
}
