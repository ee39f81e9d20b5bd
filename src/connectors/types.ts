import type { ConnectorTypeModule } from './connector.ts';
import { ldap } from './ldap/index.ts';
import { local } from './local/index.ts';
import { saml } from './saml/index.ts';

/**
 * Every connector type Lock has, each described by its own folder's index.ts. Adding a type: its
 * folder, and one line here.
 */
export const CONNECTOR_TYPE_MODULES = [local, ldap, saml] as const;

/** The module of a type, or undefined for one this version does not have. */
export const connectorTypeModule = (type: string): ConnectorTypeModule | undefined =>
  CONNECTOR_TYPE_MODULES.find((module) => module.type === type);
