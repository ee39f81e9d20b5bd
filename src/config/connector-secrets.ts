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
