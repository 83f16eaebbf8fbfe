// The one seam between the apiserver and the api/ helpers that land in parallel (defaults,
// validation, protobuf, OpenAPI, patch, managedFields). Every call the server makes into them goes
// through here, so switching from a stand-in to the real export is a change in this file only.
import type { GroupVersionKind } from '../../api/scheme';
import { decodeProtobufBody as decodeProtobuf } from '../../api/protobuf';
import { buildOpenAPIv3Documents as buildDocs } from '../../api/openapi';
import { buildOpenAPIv2Document as buildV2, encodeOpenAPIv2Document, type OpenAPIv2Document } from '../../api/openapi-v2';
import type { ServedResource } from './resources';
import * as mf from '../../api/managedfields';
import * as defaults from '../../api/defaults';
import * as validation from '../../api/validation';
import type { OpenAPISchema, SchemaSource } from '../../api/patch';
import { ApiError, badRequest } from './errors';

export interface FieldError {
  type: 'FieldValueRequired' | 'FieldValueInvalid' | 'FieldValueNotSupported' | 'FieldValueDuplicate' | 'FieldValueForbidden' | 'FieldValueTooLong' | string;
  field: string;
  message: string;
}

/** Defaults for built-in kinds (restartPolicy, imagePullPolicy, ...). */
export function applyDefaults(gvk: GroupVersionKind, obj: any): void {
  defaults.applyDefaults(gvk, obj);
}

/** Validation errors of a built-in object (old for updates). */
export function validateObject(gvk: GroupVersionKind, obj: any, old?: any): FieldError[] {
  return validation.validateObject(gvk, obj, old);
}

/** Unknown-field paths of a built-in object, for strict decoding. */
export function unknownFields(gvk: GroupVersionKind, obj: any): string[] {
  return validation.unknownFields(gvk, obj);
}

/** Unknown-field paths of a custom resource per its CRD schema. */
export function unknownCustomFields(schema: any, obj: any): string[] {
  return validation.unknownFieldsBySchema(schema, obj);
}

/** Validation of a custom resource against its CRD's openAPIV3Schema. */
export function validateAgainstSchema(schema: any, obj: any, path: string): FieldError[] {
  return validation.validateAgainstSchema(schema, obj, path);
}

/** CRD pruning: drops what the structural schema does not specify. */
export function pruneUnknownFields(schema: any, obj: any): void {
  validation.pruneUnknownFields(schema, obj);
}

export function decodeProtobufBody(body: Buffer): any {
  return decodeProtobuf(body);
}

/** OpenAPI v3 documents by group-version path ('api/v1', 'apis/apps/v1'), custom resources included. */
export function buildOpenAPIv3Documents(resources: ServedResource[], custom: ServedResource[]): Map<string, object> {
  return buildDocs(resources.filter((r) => !r.custom), custom.map((r) => ({ resource: r, schema: r.custom?.schema })));
}

/** The OpenAPI v2 document (JSON) and its gnostic protobuf encoding, custom resources included. */
export function buildOpenAPIv2(resources: ServedResource[], custom: ServedResource[]): { json: OpenAPIv2Document; protobuf: Uint8Array } {
  const json = buildV2(resources.filter((r) => !r.custom), custom.map((r) => ({ resource: r, schema: r.custom?.schema })));
  return { json, protobuf: encodeOpenAPIv2Document(json) };
}

function sourceOf(gvk: GroupVersionKind, schema: unknown): SchemaSource {
  if (schema) return { schema: schema as OpenAPISchema };
  return gvk;
}

function managedFieldsFailure(err: unknown): never {
  if (err instanceof mf.ManagedFieldsError) {
    if (err.status === 400) throw badRequest(err.message);
    if (err.status === 422) throw new ApiError(422, 'Invalid', err.message, { causes: [{ reason: 'FieldValueInvalid', message: err.message }] });
    throw new ApiError(500, 'InternalError', `Internal error occurred: ${err.message}`);
  }
  throw err;
}

/** Records the write's manager in metadata.managedFields (custom resources by their CRD schema). */
export function updateManagedFields(gvk: GroupVersionKind, schema: unknown, old: any, obj: any, manager: string, subresource: string | undefined, now: Date): void {
  try {
    mf.updateManagedFields(sourceOf(gvk, schema), old, obj, manager, 'Update', subresource, now);
  } catch (err) { managedFieldsFailure(err); }
}

/** Server-side apply; conflicts are returned (the caller answers 409 unless forced). */
export function serverSideApply(gvk: GroupVersionKind, schema: unknown, live: any, applied: any, manager: string, force: boolean, now: Date): { object: any; conflicts: Array<{ manager: string; field: string; message: string }> } {
  try {
    return mf.serverSideApply(sourceOf(gvk, schema), live, applied, manager, force, now);
  } catch (err) { return managedFieldsFailure(err); }
}

export const conflictStatusMessage = mf.conflictStatusMessage;
