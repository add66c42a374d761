// Domain errors, each mapped once to an RFC 9457 problem+json response by handleError (api/http/problems.ts).

export interface FieldError {
  path: string;
  message: string;
}

export class DomainError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    detail: string,
    readonly errors?: FieldError[],
  ) {
    super(detail);
  }

  get type(): string {
    return `https://statusdesk.dev/problems/${this.title.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`;
  }
}

/** 422: the request is well-formed but names things that do not fit (unknown template, missing variable, ...). */
export class ValidationError extends DomainError {
  constructor(detail: string, errors: FieldError[]) {
    super(422, 'Validation failed', detail, errors);
  }
}

export class NotFoundError extends DomainError {
  constructor(what: string, id: string) {
    super(404, 'Not found', `No ${what} with id "${id}".`);
  }
}

/** 409: an invalid status transition, a stale If-Match version, or a duplicate. */
export class ConflictError extends DomainError {
  constructor(detail: string) {
    super(409, 'Conflict', detail);
  }
}

export class UnauthorizedError extends DomainError {
  constructor(detail = 'A valid bearer token is required.') {
    super(401, 'Unauthorized', detail);
  }
}

export class ForbiddenError extends DomainError {
  constructor(detail: string) {
    super(403, 'Forbidden', detail);
  }
}

/** 503: the service cannot store this now (the database's write lock stayed taken); the caller may retry after `retryAfterSeconds`. */
export class UnavailableError extends DomainError {
  constructor(
    detail: string,
    readonly retryAfterSeconds: number,
  ) {
    super(503, 'Service unavailable', detail);
  }
}

/** 507 (RFC 4918): the disk is full, so the request could not be stored; nothing of it was. */
export class InsufficientStorageError extends DomainError {
  constructor(detail: string) {
    super(507, 'Insufficient storage', detail);
  }
}

export function problemBody(error: DomainError, instance?: string) {
  return {
    type: error.type,
    title: error.title,
    status: error.status,
    detail: error.message,
    ...(instance ? { instance } : {}),
    ...(error.errors ? { errors: error.errors } : {}),
  };
}
