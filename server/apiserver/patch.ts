// PATCH bodies (kube-api-compat §5): JSON patch, merge patch, strategic merge patch. One function
// the registry calls; api/patch replaces the interim strategic implementation when it lands.
import { applyPatch as applyJsonPatchOps, type Operation } from 'fast-json-patch';
import mergePatch from 'json-merge-patch';
import type { GroupVersionKind } from '../../api/scheme';
import { ApiError, badRequest } from './errors';

export type PatchType = 'json' | 'merge' | 'strategic' | 'apply';

export const PATCH_CONTENT_TYPES: Record<string, PatchType> = {
  'application/json-patch+json': 'json',
  'application/merge-patch+json': 'merge',
  'application/strategic-merge-patch+json': 'strategic',
  'application/apply-patch+yaml': 'apply',
  'application/apply-patch+cbor': 'apply',
};

function clone<T>(v: T): T { return JSON.parse(JSON.stringify(v)) as T; }

/** Strips strategic-merge directives the interim merge cannot honour (best effort until api/patch). */
function stripDirectives(v: any): any {
  if (Array.isArray(v)) return v.map(stripDirectives);
  if (v && typeof v === 'object') {
    const out: any = {};
    for (const [k, x] of Object.entries(v)) {
      if (k.startsWith('$')) continue;
      out[k] = stripDirectives(x);
    }
    return out;
  }
  return v;
}

/** Strategic merge: lists of objects with a `name` merge by name (containers, env, volumes...), else merge patch. */
function strategicMerge(target: any, patch: any): any {
  if (patch === null) return undefined;
  if (typeof patch !== 'object' || Array.isArray(patch) || typeof target !== 'object' || target === null || Array.isArray(target)) {
    if (Array.isArray(patch) && Array.isArray(target) && patch.every((p) => p && typeof p === 'object' && typeof p.name === 'string') && target.every((t) => t && typeof t === 'object' && typeof t.name === 'string')) {
      const out = target.map((t) => clone(t));
      for (const p of patch) {
        if (p.$patch === 'delete') { const i = out.findIndex((t) => t.name === p.name); if (i >= 0) out.splice(i, 1); continue; }
        const i = out.findIndex((t) => t.name === p.name);
        if (i >= 0) out[i] = strategicMerge(out[i], p); else out.push(stripDirectives(p));
      }
      return out;
    }
    return stripDirectives(patch);
  }
  const out: any = { ...target };
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith('$')) continue;
    if (v === null) { delete out[k]; continue; }
    out[k] = strategicMerge(out[k], v);
  }
  return out;
}

/** Applies a patch of the given type to a copy of `obj`. Errors are 400/422 ApiErrors. */
export function applyPatchBody(type: PatchType, _gvk: GroupVersionKind, obj: any, patch: unknown): any {
  try {
    switch (type) {
      case 'json': {
        if (!Array.isArray(patch)) throw badRequest('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
        const res = applyJsonPatchOps(clone(obj), patch as Operation[], true, false);
        return res.newDocument;
      }
      case 'merge':
        if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) throw badRequest('json: cannot unmarshal array into Go value of type map[string]interface {}');
        return mergePatch.apply(clone(obj), patch);
      case 'strategic':
        if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) throw badRequest('json: cannot unmarshal array into Go value of type map[string]interface {}');
        return strategicMerge(clone(obj), patch);
      case 'apply':
        throw badRequest('apply patches are handled by server-side apply');
    }
  } catch (err) {
    if (err instanceof ApiError) throw err;
    const e = err as { name?: string; message?: string };
    // fast-json-patch: a failed "test" or a missing path is a 422 in upstream (the patch does not apply).
    throw new ApiError(422, 'Invalid', `the server rejected our request due to an error in our request`, { causes: [{ reason: 'FieldValueInvalid', message: e.message?.split('\n')[0] ?? String(err) }] });
  }
}
