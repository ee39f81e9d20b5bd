// The part of @authenio/xml-encryption (samlify's own XML Encryption library; it ships no types) Lock uses.
declare module '@authenio/xml-encryption' {
  export interface DecryptOptions {
    key: string | Buffer;
    /** Refuses RSA PKCS#1 v1.5 key transport and 3DES. */
    disallowDecryptionWithInsecureAlgorithm?: boolean;
    warnInsecureAlgorithm?: boolean;
  }
  export function decrypt(
    xml: string,
    options: DecryptOptions,
    callback: (error: Error | null, decrypted?: string) => void,
  ): void;
}
