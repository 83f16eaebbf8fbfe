// Small helpers over plain JSON values (what JSON.parse yields), shared by patch and managedfields.

export type JSONValue = null | boolean | number | string | JSONValue[] | JSONObject;
export interface JSONObject { [key: string]: JSONValue }

export function isObject(v: unknown): v is JSONObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep copy of a JSON value; much cheaper than structuredClone or a stringify/parse round trip. */
export function cloneJSON<T>(v: T): T {
  if (typeof v !== 'object' || v === null) return v;
  if (Array.isArray(v)) {
    const out = new Array(v.length);
    for (let i = 0; i < v.length; i++) out[i] = cloneJSON(v[i]);
    return out as T;
  }
  const src = v as Record<string, unknown>;
  const keys = Object.keys(src);
  const out: Record<string, unknown> = {};
  for (let i = 0; i < keys.length; i++) {
    const x = src[keys[i]];
    if (x !== undefined && keys[i] !== '__proto__') out[keys[i]] = cloneJSON(x);
  }
  return out as T;
}

/**
 * Deep copy of an object about to be patched, except that metadata.managedFields entries are
 * shared: strategic and merge patches only ever replace that (atomic) list whole, and sharing keeps
 * the FieldsV1 decode cache warm for the managedFields update that follows every patch.
 */
export function cloneForPatch(obj: JSONObject): JSONObject {
  const meta = obj.metadata;
  if (!isObject(meta) || !Array.isArray(meta.managedFields)) return cloneJSON(obj);
  const out: JSONObject = {};
  for (const k of Object.keys(obj)) if (k !== 'metadata' && obj[k] !== undefined) out[k] = cloneJSON(obj[k]);
  const m: JSONObject = {};
  for (const k of Object.keys(meta)) if (meta[k] !== undefined) m[k] = k === 'managedFields' ? (meta[k] as JSONValue[]).slice() : cloneJSON(meta[k]);
  out.metadata = m;
  return out;
}

/** Structural equality of JSON values (key order does not matter). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  let n = 0;
  for (const k in ao) {
    if (ao[k] === undefined) continue;
    n++;
    if (!(k in bo) || !deepEqual(ao[k], bo[k])) return false;
  }
  for (const k in bo) if (bo[k] !== undefined) n--;
  return n === 0;
}
