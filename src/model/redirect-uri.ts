import { z } from 'zod';

/** Schemes that run code or read local files in a browser or an OS: never a place to send a code. */
const NEVER = new Set(['javascript:', 'data:', 'vbscript:', 'file:', 'blob:', 'filesystem:', 'about:']);

/**
 * RFC 8252 §7.1: a native app's private-use scheme is a reverse domain name the app's publisher
 * controls (`com.example.app:/callback`): at least two labels, so `myapp:` is refused.
 */
const PRIVATE_USE_SCHEME = /^[a-z][a-z0-9-]*(\.[a-z0-9-]+)+:$/;

function acceptableScheme(value: string): boolean {
  // zod runs this refinement even after `url()` failed: that failure already names the problem.
  if (!URL.canParse(value)) return true;
  const scheme = new URL(value).protocol.toLowerCase();
  if (NEVER.has(scheme)) return false;
  return scheme === 'https:' || scheme === 'http:' || PRIVATE_USE_SCHEME.test(scheme);
}

/**
 * A redirect URI (or post-logout redirect URI) as a client registers it: absolute, no fragment
 * (RFC 6749 §3.1.2), and http(s) or a native app's reverse-domain private-use scheme. Refused when
 * stored, not only when used: a `javascript:` or `data:` URI must never sit in the catalog.
 */
export const redirectUriSchema = z
  .url({ message: 'must be an absolute URL' })
  .refine((value) => !value.includes('#'), 'must not contain a fragment')
  .refine(
    acceptableScheme,
    'must be an http(s) URL, or a native app’s private-use scheme named for a domain it controls (com.example.app:/callback, RFC 8252 §7.1)',
  );
