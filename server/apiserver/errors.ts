// The apiserver's constructors for Kubernetes API errors (the class itself is shared: api/errors.ts);
// the messages are the ones kubectl users know from apimachinery's api/errors.

export {
  ApiError, STALE_OBJECT, alreadyExists, conflict, notFound, qualifiedResource,
  type StatusCause, type StatusDetails, type StatusObject,
} from '../../api/errors';
import { ApiError, qualifiedResource, type StatusCause, type StatusDetails } from '../../api/errors';

export interface FieldCause { type: string; field: string; message: string }

/** 422 Invalid: details.kind is the Kind (not the resource), causes name the fields. */
export function invalid(group: string, kind: string, name: string, errs: FieldCause[]): ApiError {
  const parts = errs.map((e) => `${e.field}: ${e.message}`);
  const msg = `${kind}${group ? `.${group}` : ''} "${name}" is invalid: ${parts.length === 1 ? parts[0] : `[${parts.join(', ')}]`}`;
  return new ApiError(422, 'Invalid', msg, {
    name, group: group || undefined, kind,
    causes: errs.map((e) => ({ reason: e.type, message: e.message, field: e.field })),
  });
}

export function badRequest(message: string, causes?: StatusCause[]): ApiError {
  return new ApiError(400, 'BadRequest', message, causes ? { causes } : undefined);
}

export function methodNotAllowed(message: string): ApiError {
  return new ApiError(405, 'MethodNotAllowed', message);
}

export function unsupportedMediaType(contentType: string): ApiError {
  return new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf`, { causes: [{ reason: 'UnexpectedHeader', message: `the body of the request was in an unknown format: ${contentType}`, field: 'Content-Type' }] });
}

export function expired(message: string): ApiError {
  return new ApiError(410, 'Expired', message);
}

export function unauthorized(): ApiError {
  return new ApiError(401, 'Unauthorized', 'Unauthorized');
}

export function forbidden(user: string, verb: string, resource: string, group: string, namespace: string | undefined, name?: string, sub?: string): ApiError {
  const res = sub ? `${resource}/${sub}` : resource;
  const where = namespace ? ` in the namespace "${namespace}"` : ' at the cluster scope';
  const msg = `${qualifiedResource(group, resource)}${name ? ` "${name}"` : ''} is forbidden: User "${user}" cannot ${verb} resource "${res}" in API group "${group}"${where}`;
  return new ApiError(403, 'Forbidden', msg, { name, group: group || undefined, kind: resource });
}

export function forbiddenMessage(group: string, resource: string, name: string, message: string): ApiError {
  return new ApiError(403, 'Forbidden', `${qualifiedResource(group, resource)} "${name}" is forbidden: ${message}`, { name, group: group || undefined, kind: resource });
}

export function tooLarge(limit: number): ApiError {
  return new ApiError(413, 'RequestEntityTooLarge', `Request entity too large: limit is ${limit}`);
}

export function internalError(err: unknown): ApiError {
  const m = err instanceof Error ? err.message : String(err);
  return new ApiError(500, 'InternalError', `Internal error occurred: ${m}`, { causes: [{ message: m }] });
}

export function serviceUnavailable(message: string): ApiError {
  return new ApiError(503, 'ServiceUnavailable', message);
}

export function notAcceptable(message: string): ApiError {
  return new ApiError(406, 'NotAcceptable', message);
}

export function successStatus(details?: StatusDetails): Record<string, unknown> {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', ...(details ? { details } : {}) };
}
