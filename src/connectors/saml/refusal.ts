/**
 * A SAML response Lock does not accept. `reason` tells the admin exactly which check failed (it goes
 * to the audit log); the user only ever sees a generic message.
 */
export class SamlRefusal extends Error {
  override name = 'SamlRefusal';
  /** The IdP's signing certificate did not verify it: worth re-reading the IdP's metadata once. */
  readonly signatureFailure: boolean;

  constructor(reason: string, options: { signatureFailure?: boolean } = {}) {
    super(reason);
    this.signatureFailure = options.signatureFailure ?? false;
  }

  get reason(): string {
    return this.message;
  }
}
