// The three PATCH content types the apiserver accepts besides server-side apply:
//   application/json-patch+json            -> applyJsonPatch          (RFC 6902, fast-json-patch)
//   application/merge-patch+json           -> applyMergePatch         (RFC 7386, json-merge-patch)
//   application/strategic-merge-patch+json -> applyStrategicMergePatch (built-in kinds only;
//                                              upstream answers 415 for custom resources)
// Every function returns a new object and leaves its arguments untouched. The result may share
// values with the patch; with the original it shares only metadata.managedFields entries (merge
// and strategic patches), which callers replace rather than edit. Failures are PatchError with a stable code
// and the HTTP status to answer with.

import { applyPatch, JsonPatchError, type Operation } from 'fast-json-patch';
import mergePatch from 'json-merge-patch';
import { PatchError } from './errors';
import { cloneForPatch, cloneJSON, isObject, type JSONObject } from './json';
import { nodeFor, type SchemaSource } from './schema';
import { strategicMergePatch } from './strategic';

export { PatchError, type PatchErrorCode } from './errors';
export { cloneForPatch, cloneJSON, deepEqual, isObject, type JSONObject, type JSONValue } from './json';
export {
  builtinKindSchema, nodeFor, schemaNode, UNKNOWN,
  type GroupVersionKindLike, type ListType, type NodeKind, type OpenAPISchema, type SchemaNode, type SchemaResolver, type SchemaSource,
} from './schema';

/** The apiserver refuses JSON patches with more operations than this (413), as upstream does. */
export const MAX_JSON_PATCH_OPERATIONS = 10000;

// fast-json-patch error names -> our codes. Upstream (evanphx/json-patch) fails every one of these
// while applying, so all are 422; only a body that is not a list of operations is a 400.
const jsonPatchCodes: Record<string, PatchError['code']> = {
  TEST_OPERATION_FAILED: 'PatchTestFailed',
  OPERATION_PATH_UNRESOLVABLE: 'PathNotFound',
  OPERATION_FROM_UNRESOLVABLE: 'PathNotFound',
  OPERATION_PATH_CANNOT_ADD: 'PathNotFound',
  OPERATION_VALUE_OUT_OF_BOUNDS: 'PathNotFound',
};

/** RFC 6902: applies `ops` in order; the whole patch fails if any operation fails. */
export function applyJsonPatch(obj: object, ops: unknown): JSONObject {
  if (!Array.isArray(ops)) throw new PatchError('InvalidPatch', 'a JSON patch must be a JSON list of operations');
  if (ops.length > MAX_JSON_PATCH_OPERATIONS) {
    throw new PatchError('TooManyOperations', `The allowed maximum operations in a JSON patch is ${MAX_JSON_PATCH_OPERATIONS}, got ${ops.length}`);
  }
  let doc: unknown;
  try {
    doc = applyPatch(cloneJSON(obj), ops as Operation[], true, true).newDocument;
  } catch (err) {
    if (err instanceof JsonPatchError) {
      const op = err.operation as { op?: unknown; path?: unknown; from?: unknown } | undefined;
      const where = op ? ` (operation ${err.index ?? '?'}: ${JSON.stringify(op.op)} ${JSON.stringify(op.path)}${op.from !== undefined ? ` from ${JSON.stringify(op.from)}` : ''})` : '';
      const code = jsonPatchCodes[err.name] ?? 'InvalidJSONPatchOp';
      const what = code === 'PatchTestFailed' ? 'test failed' : err.message.split('\n')[0];
      throw new PatchError(code, `${what}${where}`, { cause: err });
    }
    throw new PatchError('PatchNotApplicable', `json patch could not be applied: ${(err as Error).message}`, { cause: err });
  }
  if (!isObject(doc)) throw new PatchError('PatchNotApplicable', 'the JSON patch replaced the object with something that is not a JSON object');
  return doc;
}

/** RFC 7386: objects merge recursively, null deletes, anything else (lists too) replaces. */
export function applyMergePatch(obj: object, patch: unknown): JSONObject {
  if (!isObject(patch)) throw new PatchError('InvalidPatch', 'invalid JSON Patch: a merge patch must be a JSON object');
  return mergePatch.apply(cloneForPatch(obj as JSONObject), patch) as JSONObject;
}

/**
 * Strategic merge patch against the schema of `source`: a kind (built-in merge keys and
 * strategies), an OpenAPI schema with its resolver, or a compiled SchemaNode.
 */
export function applyStrategicMergePatch(source: SchemaSource, obj: object, patch: unknown): JSONObject {
  if (!isObject(patch)) throw new PatchError('InvalidPatch', 'invalid JSON document: a strategic merge patch must be a JSON object');
  return strategicMergePatch(obj as JSONObject, patch, nodeFor(source));
}
