/** The declarative file most token tests start from: one API per signing algorithm. */
export const SECRET = 'reporting-secret-0123456789';

export const tokenConfig = `
roles:
  - { name: app_admin, description: Full access }
  - { name: app_readwrite }
  - { name: app_readonly }
resources:
  - id: https://db-api.example.com
    scopes: [read, write]
    roles: [app_admin, app_readwrite, app_readonly]
    roleClaim: role
    defaultRole: web_anon
    accessTokenTTL: 300
    signingAlg: ES256
  - id: https://rs-api.example.com
    scopes: [read]
    roles: [app_readonly]
    accessTokenTTL: 120
  - id: https://ed-api.example.com
    roles: [app_admin]
    roleClaim: role
    defaultRole: nobody
    signingAlg: EdDSA
clients:
  - clientId: reporting-service
    clientSecret: ${SECRET}
    grantTypes: [client_credentials]
    roles: [app_readonly, app_readwrite]
    resources: [https://db-api.example.com, https://rs-api.example.com, https://ed-api.example.com]
  - clientId: single-api-service
    clientSecret: ${SECRET}
    grantTypes: [client_credentials]
    roles: [app_admin]
    resources: [https://ed-api.example.com]
`;
