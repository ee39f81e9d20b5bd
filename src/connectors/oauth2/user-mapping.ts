import type { UpstreamIdentity } from '../connector.ts';
import { claimText, claimTexts, readClaimPath } from '../federation/claim-mapping.ts';
import type { OAuth2Config } from './config.ts';

/**
 * The upstream's user document (and groups document, where `groupsUrl` is set) as an identity,
 * by the connector's dot paths; or, as a string, why it cannot be one (for the admin). The email
 * is carried only when the admin trusts this upstream's addresses (`trustEmail`): plain OAuth 2.0
 * says nothing of whether one was verified.
 */
export function mapUpstreamUser(
  config: OAuth2Config,
  user: unknown,
  groupsDocument: unknown,
): UpstreamIdentity | string {
  const { claims } = config;
  const read = (path: string | undefined) =>
    path === undefined ? undefined : claimText(readClaimPath(user, path));
  const upstreamId = read(claims.id);
  if (upstreamId === undefined)
    return `the userinfo document has no usable ${claims.id} (claims.id): the user cannot be told apart from others`;
  const username = read(claims.username) ?? upstreamId;
  const email = config.trustEmail ? read(claims.email) : undefined;
  const name = read(claims.name);
  const groupsSource = config.groupsUrl === undefined ? user : groupsDocument;
  const groups = claims.groups === undefined ? [] : claimTexts(readClaimPath(groupsSource, claims.groups));
  return {
    upstreamId,
    username,
    ...(email !== undefined && { email }),
    ...(name !== undefined && { name }),
    groups,
    // As the oidc type does: Lock's tokens say the address was verified (by the trusted upstream).
    ...(email !== undefined && { claims: { email_verified: true } }),
  };
}
