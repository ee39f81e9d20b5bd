/** What may make a path differ from the route it is dispatched to: capitals, `%`, `//`, a trailing `/`. */
const UNROUTED = /[A-Z%]|\/\/|.\/$/;

/**
 * The path as the routers see it, in one spelling: oidc-provider's and @koa/router's routes ignore
 * case and a trailing slash, so a limit on `/token` must also count `/TOKEN` and `/token/`.
 * Percent-encoding is decoded and repeated slashes folded too: a spelling that no router
 * dispatches is then counted as well, which costs nothing, while one that a router dispatches
 * but a rule missed would escape the limit.
 */
export function routedPath(path: string): string {
  if (!UNROUTED.test(path)) return path; // the token path's steady state: no allocation
  let decoded = path;
  if (path.includes('%'))
    try {
      decoded = decodeURIComponent(path);
    } catch {
      // Not valid percent-encoding: no router decodes it either.
    }
  const folded = decoded.replace(/\/{2,}/g, '/').toLowerCase();
  return folded.length > 1 && folded.endsWith('/') ? folded.slice(0, -1) : folded;
}
