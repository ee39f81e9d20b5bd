/**
 * Which cheap check, made before any signature or schema work, refused the response: refusals of
 * this kind are what anyone can produce in bulk, so the ACS audits them in aggregate.
 */
export type PrecheckFailure =
  | 'too-large'
  | 'not-base64'
  | 'not-xml'
  | 'not-response'
  | 'unsigned'
  | 'unsolicited'
  | 'unknown-request'
  | 'expired-request'
  | 'relay-state'
  | 'replay'
  | 'too-many-responses';

/**
 * A SAML response Lock does not accept. `reason` tells the admin exactly which check failed (it goes
 * to the audit log); the user only ever sees a generic message.
 */
export class SamlRefusal extends Error {
  override name = 'SamlRefusal';
  /** The IdP's signing certificate did not verify it: worth re-reading the IdP's metadata once. */
  readonly signatureFailure: boolean;
  /** Set when a cheap check before the expensive ones refused it. */
  readonly precheck: PrecheckFailure | undefined;

  constructor(reason: string, options: { signatureFailure?: boolean; precheck?: PrecheckFailure } = {}) {
    super(reason);
    this.signatureFailure = options.signatureFailure ?? false;
    this.precheck = options.precheck;
  }

  get reason(): string {
    return this.message;
  }
}
