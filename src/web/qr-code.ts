let loading: Promise<typeof import('qrcode')> | undefined;

/**
 * An authenticator app's enrolment URI as a QR code, ready for an `<img src>`: an SVG data URI
 * (the pages' CSP allows `img-src data:`). The QR library is loaded on the first enrolment, not at
 * start: most of a server's life nobody enrols.
 */
export async function qrCodeDataUri(otpauthUri: string): Promise<string> {
  loading ??= import('qrcode');
  const { toString: renderQrCode } = await loading;
  const svg = await renderQrCode(otpauthUri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
  return `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}`;
}
