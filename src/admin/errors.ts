/** A request an admin made that cannot be done as asked; `field` names the input at fault. */
export class AdminInputError extends Error {
  override name = 'AdminInputError';
  readonly field: string;
  readonly status: number;
  constructor(field: string, message: string, status = 422) {
    super(`${field}: ${message}`);
    this.field = field;
    this.status = status;
  }
}

export class NotFoundError extends Error {
  override name = 'NotFoundError';
  readonly status = 404;
}
