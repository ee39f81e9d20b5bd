import type { UpstreamIdentity } from '../connector.ts';
import type { SamlConfig } from './config.ts';
import { SamlRefusal } from './refusal.ts';
import { isTransientNameId, type ValidatedAssertion } from './response-validation.ts';

/** Where a SAML identity keeps the time of its last SAML login (epoch seconds), for refresh. */
export const SAML_LOGIN_AT_CLAIM = 'saml_login_at';

type MappingConfig = Pick<
  SamlConfig,
  | 'userIdAttribute'
  | 'usernameAttribute'
  | 'emailAttribute'
  | 'nameAttribute'
  | 'groupsAttribute'
  | 'groupsDelimiter'
  | 'claims'
>;

/**
 * The identity a validated assertion describes. Attribute names match exactly (basic names such as
 * `mail` or URI names such as `urn:oid:0.9.2342.19200300.100.1.3`). The stable id is the configured
 * attribute or the NameID — never a transient NameID, never a display name.
 */
export function mapAssertionToIdentity(
  assertion: ValidatedAssertion,
  config: MappingConfig,
  loginAt: Date,
): UpstreamIdentity {
  const values = (name: string | undefined) =>
    name === undefined ? [] : (assertion.attributes.get(name) ?? []);
  const first = (name: string | undefined) => values(name).find((value) => value !== '');

  let upstreamId: string;
  if (config.userIdAttribute !== undefined) {
    const ids = values(config.userIdAttribute).filter((value) => value !== '');
    if (ids.length !== 1)
      throw new SamlRefusal(
        `the user id attribute ${config.userIdAttribute} has ${ids.length} values in the assertion, expected 1`,
      );
    upstreamId = ids[0]!;
  } else {
    if (isTransientNameId(assertion.nameId.format))
      throw new SamlRefusal(
        'the NameID is transient (a new value every login): request a persistent NameID (nameIdFormat) or set userIdAttribute',
      );
    upstreamId = assertion.nameId.value;
  }

  const groups = [
    ...new Set(
      values(config.groupsAttribute)
        .flatMap((value) =>
          config.groupsDelimiter === undefined ? [value] : value.split(config.groupsDelimiter),
        )
        .map((group) => group.trim())
        .filter((group) => group !== ''),
    ),
  ];
  const claims: Record<string, unknown> = {};
  for (const [claim, attribute] of Object.entries(config.claims)) {
    const found = values(attribute);
    if (found.length === 1) claims[claim] = found[0];
    else if (found.length > 1) claims[claim] = found;
  }
  claims[SAML_LOGIN_AT_CLAIM] = Math.floor(loginAt.getTime() / 1000);

  const email = first(config.emailAttribute);
  const name = first(config.nameAttribute);
  return {
    upstreamId,
    username: first(config.usernameAttribute) ?? upstreamId,
    ...(email !== undefined && { email }),
    ...(name !== undefined && { name }),
    groups,
    claims,
  };
}
