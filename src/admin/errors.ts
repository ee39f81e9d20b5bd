/** What is wrong with one input field: `path` as in the declarative file (`config.userSearch.baseDN`). */
export interface Problem {
  path: string;
  message: string;
}

/** A request an admin made that cannot be done as asked; `field` names the input at fault. */
export class AdminInputError extends Error {
  override name = 'AdminInputError';
  readonly field: string;
  readonly detail: string;
  readonly status: number;
  constructor(field: string, message: string, status = 422) {
    super(`${field}: ${message}`);
    this.field = field;
    this.detail = message;
    this.status = status;
  }
}

/** An input that fails its schema: every problem, each naming its field. */
export class ValidationError extends Error {
  override name = 'ValidationError';
  readonly status: number;
  readonly problems: Problem[];
  /** 422 for a body that fails its schema; 400 for a malformed query string. */
  constructor(problems: Problem[], status = 422) {
    super(problems.map((problem) => `${problem.path || '(body)'}: ${problem.message}`).join('; '));
    this.problems = problems;
    this.status = status;
  }
}

export class NotFoundError extends Error {
  override name = 'NotFoundError';
  readonly status = 404;
}

/** The change cannot be made in the entity's present state (file-owned, built in, still referenced). */
export class StateConflictError extends Error {
  override name = 'StateConflictError';
  readonly status = 409;
}

/** If-Match named a version that is no longer current: someone else changed the entity meanwhile. */
export class PreconditionFailedError extends Error {
  override name = 'PreconditionFailedError';
  readonly status = 412;
}
