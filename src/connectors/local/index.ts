import type { ConnectorTypeModule } from '../connector.ts';
import { localConfigSchema } from './config.ts';
import { LocalConnector } from './local-connector.ts';

/** Lock's own accounts, in its database. */
export const local = {
  type: 'local',
  configSchema: localConfigSchema,
  create: (stored, context) => new LocalConnector({ id: stored.id, name: stored.name, db: context.db }),
  upstreamSecrets: { target: [], secrets: [] },
  // Whether the person confirmed the account's email from its mailbox (docs/email.md), with scope email.
  claimNames: () => ['email_verified'],
} satisfies ConnectorTypeModule<'local', typeof localConfigSchema>;
