// The Kubernetes API's failure shape, shared by everything that serves or calls the API: the
// apiserver answers an ApiError as a meta/v1 Status; the in-process and HTTP clients throw the same
// class, so callers test `code` (the Status reason) the same way wherever the error came from.

export interface StatusCause { type?: string; reason?: string; message: string; field?: string }

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface StatusObject {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, unknown>;
  status: 'Failure' | 'Success';
  message?: string;
  reason?: string;
  details?: StatusDetails;
  code: number;
}

/**
 * A failed API call: `code` is the Status reason (NotFound, AlreadyExists, Conflict, Expired,
 * Invalid, Forbidden, ...; stable) and `httpStatus` the HTTP status (404, 409, 410, 422, ...).
 */
export class ApiError extends Error {
  readonly code: string;
  constructor(readonly httpStatus: number, reason: string, message: string, readonly details?: StatusDetails) {
    super(message);
    this.name = 'ApiError';
    this.code = reason;
  }

  /** The Status reason (same as code). */
  get reason(): string { return this.code; }

  toStatus(): StatusObject {
    const s: StatusObject = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: this.message, reason: this.code, code: this.httpStatus };
    if (this.details) s.details = this.details;
    return s;
  }

  /** The error a client raises for a Status it received (reason may be empty on odd servers). */
  static fromStatus(httpStatus: number, status: Partial<StatusObject>): ApiError {
    return new ApiError(status.code ?? httpStatus, status.reason || 'Unknown', status.message ?? `the server answered ${httpStatus}`, status.details);
  }
}

export function isNotFound(e: unknown): boolean { return e instanceof ApiError && e.code === 'NotFound'; }
export function isConflict(e: unknown): boolean { return e instanceof ApiError && e.code === 'Conflict'; }
export function isAlreadyExists(e: unknown): boolean { return e instanceof ApiError && e.code === 'AlreadyExists'; }
export function isExpired(e: unknown): boolean { return e instanceof ApiError && (e.httpStatus === 410 || e.code === 'Expired' || e.code === 'Gone'); }

/** `pods` or `deployments.apps`: the qualified resource upstream puts in messages. */
export function qualifiedResource(group: string, resource: string): string {
  return group ? `${resource}.${group}` : resource;
}

export function notFound(group: string, resource: string, name: string): ApiError {
  return new ApiError(404, 'NotFound', `${qualifiedResource(group, resource)} "${name}" not found`, { name, group: group || undefined, kind: resource });
}

export function alreadyExists(group: string, resource: string, name: string): ApiError {
  return new ApiError(409, 'AlreadyExists', `${qualifiedResource(group, resource)} "${name}" already exists`, { name, group: group || undefined, kind: resource });
}

export function conflict(group: string, resource: string, name: string, why: string): ApiError {
  return new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${qualifiedResource(group, resource)} "${name}": ${why}`, { name, group: group || undefined, kind: resource });
}

export const STALE_OBJECT = 'the object has been modified; please apply your changes to the latest version and try again';
