// lock/verify: validates Lock's access tokens in a Node API. Depends on jose and node only, so an
// API importing it does not pull in the server.
export type { AccessTokenClaims, ActorClaim } from './claims.ts';
export {
  authChallenge,
  bearerChallenge,
  type TokenErrorCode,
  type TokenErrorReason,
  TokenVerificationError,
} from './errors.ts';
export { VERIFIER_DEFAULTS, type VerifierOptions } from './options.ts';
export {
  type ProtectedResourceMetadata,
  type ProtectedResourceOptions,
  protectedResourceMetadata,
  protectedResourceMetadataMiddleware,
  protectedResourceMetadataPath,
  protectedResourceMetadataUrl,
  serveProtectedResourceMetadata,
  withResourceMetadata,
} from './resource-metadata.ts';
export { createVerifier, type ProtectedRequest, type Verifier } from './verifier.ts';
