import type { SecretBox } from '../security/secret-box.ts';

/** Members of a connector's config that hold secrets: sealed at rest, never returned by the API. */
const SECRET_MEMBER = /(password|secret|privateKey)$/i;
const SEALED = '$sealed';

type Config = Record<string, unknown>;

function map(config: Config, fn: (key: string, value: unknown) => unknown): Config {
  return Object.fromEntries(Object.entries(config).map(([key, value]) => [key, fn(key, value)]));
}

const isSealed = (value: unknown): value is { [SEALED]: string } =>
  typeof value === 'object' && value !== null && typeof (value as Config)[SEALED] === 'string';

export const sealConnectorSecrets = {
  seal(config: Config, box: SecretBox, connectorId: string): Config {
    return map(config, (key, value) => {
      if (typeof value === 'string' && SECRET_MEMBER.test(key))
        return { [SEALED]: box.seal(value, `connector:${connectorId}:${key}`) };
      if (value !== null && typeof value === 'object' && !Array.isArray(value))
        return sealConnectorSecrets.seal(value as Config, box, connectorId);
      return value;
    });
  },
  open(config: Config, box: SecretBox, connectorId: string): Config {
    return map(config, (key, value) => {
      if (isSealed(value)) return box.open(value[SEALED], `connector:${connectorId}:${key}`);
      if (value !== null && typeof value === 'object' && !Array.isArray(value))
        return sealConnectorSecrets.open(value as Config, box, connectorId);
      return value;
    });
  },
};

export const isSecretMember = (key: string): boolean => SECRET_MEMBER.test(key);

/**
 * A config as the admin API shows it: secret members left out, and their paths listed in
 * `setSecrets` (`bindPassword`, `groupSearch.bindPassword`) so the admin sees which are set.
 */
export function withoutConnectorSecrets(config: Config): { config: Config; setSecrets: string[] } {
  const setSecrets: string[] = [];
  const strip = (value: Config, prefix: string): Config =>
    Object.fromEntries(
      Object.entries(value).flatMap(([key, item]): Array<[string, unknown]> => {
        const path = prefix ? `${prefix}.${key}` : key;
        if (SECRET_MEMBER.test(key) && (typeof item === 'string' || isSealed(item))) {
          setSecrets.push(path);
          return [];
        }
        if (item !== null && typeof item === 'object' && !Array.isArray(item))
          return [[key, strip(item as Config, path)]];
        return [[key, item]];
      }),
    );
  return { config: strip(config, ''), setSecrets };
}

/**
 * `input` with every secret member it leaves out taken from `stored` (opened): on update an
 * omitted secret keeps the one Lock has. Only where the input has the surrounding object.
 */
export function keepOmittedSecrets(input: Config, stored: Config): Config {
  const out: Config = { ...input };
  for (const [key, value] of Object.entries(stored)) {
    if (SECRET_MEMBER.test(key) && typeof value === 'string' && out[key] === undefined) out[key] = value;
    else if (
      value !== null &&
      typeof value === 'object' &&
      !Array.isArray(value) &&
      out[key] !== null &&
      typeof out[key] === 'object' &&
      !Array.isArray(out[key])
    )
      out[key] = keepOmittedSecrets(out[key] as Config, value as Config);
  }
  return out;
}

/**
 * The stored secrets an update or test would send to another upstream than the one they were saved
 * for: `target` members (url, TLS and trust settings) differ between `stored` and `next`, and
 * `given` (the config as the admin sent it) leaves the secret out. Each must be given again.
 */
export function secretsBoundToChangedTarget(
  binding: { target: string[]; secrets: string[] },
  given: Config,
  stored: Config,
  next: Config,
): { changed: string[]; secrets: string[] } {
  const changed = binding.target.filter(
    (member) => JSON.stringify(stored[member]) !== JSON.stringify(next[member]),
  );
  if (changed.length === 0) return { changed, secrets: [] };
  const secrets = binding.secrets.filter(
    (secret) => given[secret] === undefined && stored[secret] !== undefined,
  );
  return { changed, secrets };
}
