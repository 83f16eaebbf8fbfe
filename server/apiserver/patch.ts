// PATCH bodies (kube-api-compat §5): JSON patch, merge patch, strategic merge patch through
// api/patch; its PatchError codes map to the Status upstream answers (400, 413 or 422).
import type { GroupVersionKind } from '../../api/scheme';
import { applyJsonPatch, applyMergePatch, applyStrategicMergePatch, PatchError } from '../../api/patch';
import { ApiError, badRequest } from './errors';

export type PatchType = 'json' | 'merge' | 'strategic' | 'apply';

export const PATCH_CONTENT_TYPES: Record<string, PatchType> = {
  'application/json-patch+json': 'json',
  'application/merge-patch+json': 'merge',
  'application/strategic-merge-patch+json': 'strategic',
  'application/apply-patch+yaml': 'apply',
};

/** Applies a patch of the given type to a copy of `obj`; `schema` is a custom resource's openAPIV3Schema. */
export function applyPatchBody(type: PatchType, gvk: GroupVersionKind, obj: any, patch: unknown): any {
  try {
    switch (type) {
      case 'json': return applyJsonPatch(obj, patch);
      case 'merge': return applyMergePatch(obj, patch);
      case 'strategic': return applyStrategicMergePatch(gvk, obj, patch);
      case 'apply': throw badRequest('apply patches are handled by server-side apply');
    }
  } catch (err) {
    if (err instanceof PatchError) {
      if (err.status === 400) throw badRequest(err.message);
      if (err.status === 413) throw new ApiError(413, 'RequestEntityTooLarge', err.message);
      throw new ApiError(422, 'Invalid', `the server rejected our request due to an error in our request: ${err.message}`, { causes: [{ reason: 'FieldValueInvalid', message: err.message }] });
    }
    throw err;
  }
}
