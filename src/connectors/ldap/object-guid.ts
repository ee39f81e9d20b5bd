/**
 * Active Directory's objectGUID is 16 bytes; its usual text form ({xxxxxxxx-xxxx-…}, as Windows
 * shows it) stores the first three fields little-endian. Lock keeps that form as the stable id.
 */
const ORDER = [3, 2, 1, 0, -1, 5, 4, -1, 7, 6, -1, 8, 9, -1, 10, 11, 12, 13, 14, 15];

export function formatObjectGuid(bytes: Buffer): string {
  if (bytes.length !== 16) throw new Error(`objectGUID has ${bytes.length} bytes, not 16`);
  return ORDER.map((index) => (index < 0 ? '-' : bytes[index]!.toString(16).padStart(2, '0'))).join('');
}

export function parseObjectGuid(text: string): Buffer | undefined {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(text)) return undefined;
  const hex = text.replaceAll('-', '');
  const bytes = Buffer.alloc(16);
  ORDER.filter((index) => index >= 0).forEach((index, position) => {
    bytes[index] = Number.parseInt(hex.slice(position * 2, position * 2 + 2), 16);
  });
  return bytes;
}
