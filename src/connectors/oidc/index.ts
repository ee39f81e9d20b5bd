import { type ConnectorTypeModule, loadedOnDemand } from '../connector.ts';
import { SSO_CALLBACK_ROUTE } from '../federation/callback-route.ts';
import { oidcConfigSchema } from './config.ts';
import { EMAIL_VERIFIED_CLAIM } from './identity.ts';

/** Sign-in through an upstream OpenID Connect provider (Entra ID, Google, Okta, another Lock). */
export const oidc = {
  type: 'oidc',
  configSchema: oidcConfigSchema,
  ...loadedOnDemand(
    'oidc',
    () => import('./oidc-connector.ts'),
    ({ OidcConnector }, options) => new OidcConnector(options),
  ),
  // The client secret is only ever sent to the issuer it was saved for.
  upstreamSecrets: { target: ['issuer', 'allowInsecureIssuer'], secrets: ['clientSecret'] },
  // Lock's tokens say whether the upstream verified the email (`email_verified`, with scope email).
  claimNames: () => [EMAIL_VERIFIED_CLAIM],
  redirect: { callbackRoute: SSO_CALLBACK_ROUTE },
} satisfies ConnectorTypeModule<'oidc', typeof oidcConfigSchema>;
