// metadata.managedFields and server-side apply, as k8s.io/apiserver's field manager and
// sigs.k8s.io/structured-merge-diff do them:
//  - updateManagedFields: after a create, update or non-apply patch, the fields the write changed
//    move to the writing manager ("Update" entry), taken from whoever owned them before.
//  - serverSideApply: merges an applied configuration into the live object, removes the fields
//    this manager applied before and no longer applies (unless another manager owns them), and
//    reports conflicts with other managers' fields unless forced.
// Both run on every write: sets are built once per call, FieldsV1 of untouched entries are reused
// as they were, and decoded FieldsV1 are cached per object.

import { cloneJSON, deepEqual, isObject, type JSONObject, type JSONValue } from '../patch/json';
import { isSchemaNode, nodeFor, type GroupVersionKindLike, type SchemaNode, type SchemaSource } from '../patch/schema';
import { decodeFieldsV1, encodeFieldsV1, FieldSet, FieldsV1Error, pathString } from './fieldset';
import { compare, createdFieldsV1, ensureNamedFieldsAreMembers, merge, removeItems, toFieldSet, TypedError, type Comparison } from './typed';

export { decodeFieldsV1, encodeFieldsV1, FieldSet, FieldsV1Error, pathString } from './fieldset';
export { compare, createdFieldsV1, merge, removeItems, toFieldSet, TypedError } from './typed';

export const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';
/** Update entries beyond this many are folded, oldest first, into "ancient-changes" (upstream's cap). */
export const MAX_UPDATE_MANAGERS = 10;
const BEFORE_FIRST_APPLY = 'before-first-apply';
const ANCIENT_CHANGES = 'ancient-changes';

export interface ManagedFieldsEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  /** RFC 3339 in seconds, UTC. */
  time?: string;
  fieldsType: 'FieldsV1';
  fieldsV1: JSONObject;
  subresource?: string;
}

export type ManagedFieldsErrorCode = 'InvalidApply' | 'InvalidObject' | 'InvalidManagedFields';

/**
 * InvalidApply (400): the applied configuration is not applicable (wrong apiVersion/kind, carries
 * managedFields). InvalidObject (422): an object the schema cannot type (a map-list item without its
 * keys, a set item that is a map). InvalidManagedFields (500): the live object's managedFields do
 * not decode.
 */
export class ManagedFieldsError extends Error {
  override readonly name = 'ManagedFieldsError';
  readonly status: 400 | 422 | 500;
  constructor(readonly code: ManagedFieldsErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.status = code === 'InvalidApply' ? 400 : code === 'InvalidObject' ? 422 : 500;
  }
}

/** How the write's resource strategy limits what managers own (upstream's ResetFieldsStrategy). */
export interface FieldManagerOptions {
  /**
   * Fields this write resets to their old values, by field name from the root, e.g. [['status']]
   * for the main resource and [['spec']] (plus [['metadata', 'labels']] etc. where upstream resets
   * them) for /status: they are neither compared nor owned by this write's manager.
   */
  ignoreFields?: string[][];
}

export interface ApplyOptions extends FieldManagerOptions {
  /** The subresource applied to ('status', 'scale'); recorded in the Apply entry. */
  subresource?: string;
}

function ignoredPaths(o: FieldManagerOptions | undefined): string[][] | undefined {
  return o?.ignoreFields?.length ? o.ignoreFields.map((p) => p.map((f) => `f:${f}`)) : undefined;
}

function filtered(cmp: Comparison, ignore: string[][] | undefined): Comparison {
  if (!ignore) return cmp;
  return { added: cmp.added.withoutPrefixes(ignore), modified: cmp.modified.withoutPrefixes(ignore), removed: cmp.removed.withoutPrefixes(ignore) };
}

export interface ApplyConflict {
  /** The manager that owns the field. */
  manager: string;
  /** The field as upstream prints it: `.spec.replicas`, `.spec.template.spec.containers[name="nginx"].image`. */
  field: string;
  /** The cause message: `conflict with "kubectl-edit" using apps/v1`. */
  message: string;
}

export interface ApplyResult {
  /** The object after the apply, with managedFields set; undefined when there are conflicts. */
  object: JSONObject | undefined;
  /** Non-empty only when !force: the server answers 409 with these as FieldManagerConflict causes. */
  conflicts: ApplyConflict[];
}

interface Managed {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  subresource: string | undefined;
  time: string | undefined;
  set: FieldSet;
  /** The FieldsV1 this entry was decoded from, reused while `set` is unchanged. */
  encoded?: { set: FieldSet; fieldsV1: JSONObject };
}
type ManagedMap = Map<string, Managed>;

// The identity of a manager, as upstream's BuildManagerIdentifier: Apply entries are one per
// manager whatever the version; Update entries one per manager, version and subresource.
function managerId(manager: string, operation: 'Apply' | 'Update', apiVersion: string, subresource: string | undefined): string {
  return `${operation}\u0000${manager}\u0000${operation === 'Update' ? apiVersion : ''}\u0000${subresource ?? ''}`;
}

/** RFC 3339 with seconds, as metav1.Time serializes. */
export function formatTime(d: Date): string {
  // Every write stamps its entry: each second is formatted once.
  const second = Math.floor(d.getTime() / 1000);
  if (second !== lastSecond) { lastSecond = second; lastFormatted = `${d.toISOString().slice(0, 19)}Z`; }
  return lastFormatted;
}
let lastSecond = NaN;
let lastFormatted = '';

// ---------------------------------------------------------------------------------------------
// decoding and encoding metadata.managedFields

/** Decodes managedFields entries; throws ManagedFieldsError('InvalidManagedFields') on a malformed one. */
function decodeManaged(entries: unknown): ManagedMap {
  const out: ManagedMap = new Map();
  if (entries === undefined || entries === null) return out;
  if (!Array.isArray(entries)) throw new ManagedFieldsError('InvalidManagedFields', 'metadata.managedFields must be a list');
  entries.forEach((e, i) => {
    if (!isObject(e)) throw new ManagedFieldsError('InvalidManagedFields', `managed fields entry ${i} is not an object`);
    const op = e.operation;
    if (op !== 'Apply' && op !== 'Update') throw new ManagedFieldsError('InvalidManagedFields', 'operation must be `Apply` or `Update`');
    if (typeof e.apiVersion !== 'string' || e.apiVersion === '') throw new ManagedFieldsError('InvalidManagedFields', 'apiVersion must not be empty');
    if (e.fieldsType === undefined || e.fieldsType === '') throw new ManagedFieldsError('InvalidManagedFields', `missing fieldsType in managed fields entry ${i}`);
    if (e.fieldsType !== 'FieldsV1') throw new ManagedFieldsError('InvalidManagedFields', `invalid fieldsType ${JSON.stringify(e.fieldsType)} in managed fields entry ${i}`);
    const manager = typeof e.manager === 'string' && e.manager !== '' ? e.manager : 'unknown';
    const subresource = typeof e.subresource === 'string' && e.subresource !== '' ? e.subresource : undefined;
    let set: FieldSet;
    try {
      set = e.fieldsV1 === undefined || e.fieldsV1 === null ? new FieldSet() : decodeFieldsV1(e.fieldsV1);
    } catch (err) {
      throw new ManagedFieldsError('InvalidManagedFields', `error decoding managed fields entry ${i}: ${(err as Error).message}`, { cause: err });
    }
    const m: Managed = {
      manager, operation: op, apiVersion: e.apiVersion, subresource,
      time: typeof e.time === 'string' ? e.time : undefined, set,
    };
    if (isObject(e.fieldsV1)) m.encoded = { set, fieldsV1: e.fieldsV1 };
    out.set(managerId(manager, op, e.apiVersion, subresource), m);
  });
  return out;
}

function seconds(t: string | undefined): number {
  if (!t) return 0;
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? 0 : Math.floor(ms / 1000);
}

function encodeManaged(ms: ManagedMap): ManagedFieldsEntry[] | undefined {
  const entries: ManagedFieldsEntry[] = [];
  for (const m of ms.values()) {
    if (m.set.isEmpty()) continue;
    const fieldsV1 = m.encoded && m.encoded.set === m.set ? m.encoded.fieldsV1 : encodeFieldsV1(m.set);
    const e: ManagedFieldsEntry = { manager: m.manager, operation: m.operation, apiVersion: m.apiVersion, time: m.time, fieldsType: 'FieldsV1', fieldsV1 };
    if (e.time === undefined) delete e.time;
    if (m.subresource) e.subresource = m.subresource;
    entries.push(e);
  }
  if (entries.length === 0) return undefined;
  // Upstream's order: operation, then time, manager, apiVersion, subresource.
  entries.sort((p, q) => {
    if (p.operation !== q.operation) return p.operation < q.operation ? -1 : 1;
    const d = seconds(p.time) - seconds(q.time);
    if (d) return d;
    if (p.manager !== q.manager) return p.manager < q.manager ? -1 : 1;
    if (p.apiVersion !== q.apiVersion) return p.apiVersion < q.apiVersion ? -1 : 1;
    const ps = p.subresource ?? '';
    const qs = q.subresource ?? '';
    return ps < qs ? -1 : ps > qs ? 1 : 0;
  });
  return entries;
}

// Fields the server sets, which no manager owns (upstream's stripMetaManager).
const STRIPPED = [['f:apiVersion'], ['f:kind'], ['f:metadata'], ...['name', 'namespace', 'creationTimestamp', 'selfLink', 'uid', 'clusterName',
  'generation', 'managedFields', 'resourceVersion'].map((f) => ['f:metadata', `f:${f}`])];
const stripSet = (() => { const s = new FieldSet(); for (const p of STRIPPED) s.insert(p); return s; })();

function withSet(m: Managed, set: FieldSet): Managed {
  return set === m.set ? m : { ...m, set };
}

function capUpdateManagers(ms: ManagedMap): void {
  const updaters = [...ms.entries()].filter(([, m]) => m.operation === 'Update');
  if (updaters.length <= MAX_UPDATE_MANAGERS) return;
  updaters.sort(([ia, a], [ib, b]) => seconds(a.time) - seconds(b.time) || (ia < ib ? -1 : ia > ib ? 1 : 0));
  const firstOfVersion = new Map<string, string>();
  let length = updaters.length;
  for (let i = 0; i < updaters.length && length > MAX_UPDATE_MANAGERS; i++) {
    const [id, m] = updaters[i];
    const bucketId = managerId(ANCIENT_CHANGES, 'Update', m.apiVersion, undefined);
    const first = firstOfVersion.get(m.apiVersion);
    if (first === undefined) { firstOfVersion.set(m.apiVersion, id); continue; }
    let bucket = ms.get(bucketId);
    if (!bucket) {
      const f = ms.get(first)!;
      ms.delete(first);
      bucket = { manager: ANCIENT_CHANGES, operation: 'Update', apiVersion: f.apiVersion, subresource: undefined, time: f.time, set: f.set };
    }
    ms.set(bucketId, { ...bucket, set: m.set.union(bucket.set), time: m.time, encoded: undefined });
    ms.delete(id);
    length--;
  }
}

// ---------------------------------------------------------------------------------------------

function apiVersionFor(source: SchemaSource, obj: JSONObject | undefined, other?: JSONObject): string {
  if (isKindSource(source)) return source.group ? `${source.group}/${source.version}` : source.version;
  const v = obj?.apiVersion ?? other?.apiVersion;
  return typeof v === 'string' ? v : '';
}

function metaOf(obj: JSONObject): JSONObject | undefined {
  return isObject(obj.metadata) ? obj.metadata : undefined;
}

/**
 * Records a create, update or (non-apply) patch by `manager` in newObj.metadata.managedFields.
 * `oldObj` is undefined for a create. The entries are taken from newObj when the client sent
 * valid ones (as `kubectl edit` and `replace` do), else from oldObj; `[]` resets them. Status and
 * other subresource writes pass their name and keep the live entries. Objects that were never
 * tracked (updated without managedFields) stay untracked, as upstream. Modifies newObj only.
 */
export function updateManagedFields(
  source: SchemaSource, oldObj: object | undefined, newObj: object, manager: string,
  operation: 'Update' = 'Update', subresource?: string, now: Date = new Date(), options?: FieldManagerOptions,
): void {
  const next = newObj as JSONObject;
  const prev = oldObj as JSONObject | undefined;
  const meta = metaOf(next);
  if (!meta) return;
  const sent = meta.managedFields;
  const liveEntries = prev ? metaOf(prev)?.managedFields : undefined;
  try {
    let ms: ManagedMap;
    const reset = Array.isArray(sent) && (sent.length === 0 || (sent.length === 1 && isObject(sent[0]) && Object.keys(sent[0]).length === 0));
    if (prev === undefined && (sent === undefined || sent === null || reset || subresource) && !options?.ignoreFields?.length && !forceGeneralPath) {
      // A create nobody sent entries for: one Update entry owning what the object sets.
      delete meta.managedFields;
      const fieldsV1 = createdFieldsV1(next, nodeFor(source));
      if (fieldsV1) {
        const e: ManagedFieldsEntry = { manager: manager || 'unknown', operation, apiVersion: apiVersionFor(source, next, prev), time: formatTime(now), fieldsType: 'FieldsV1', fieldsV1 };
        if (subresource) e.subresource = subresource;
        meta.managedFields = [e] as unknown as JSONValue;
      }
      return;
    }
    if (subresource) ms = decodeOrEmpty(liveEntries);
    else if (reset) ms = new Map();
    else {
      try { ms = decodeManaged(sent); } catch { ms = new Map(); }
      if (ms.size === 0) ms = decodeOrEmpty(liveEntries);
    }
    delete meta.managedFields;
    if (ms.size === 0 && prev !== undefined) return;

    const root = nodeFor(source);
    const apiVersion = apiVersionFor(source, next, prev);
    const cmp = filtered(compare(prev, next, root), ignoredPaths(options));
    const changed = cmp.modified.union(cmp.added);
    for (const [id, m] of ms) {
      const s = m.set.difference(changed).difference(cmp.removed);
      if (s.isEmpty()) ms.delete(id); else ms.set(id, withSet(m, s));
    }
    const mine = changed.difference(stripSet);
    if (!mine.isEmpty()) {
      const id = managerId(manager || 'unknown', operation, apiVersion, subresource);
      const before = ms.get(id);
      const set = before ? mine.union(before.set) : mine;
      const same = before?.encoded && set.equals(before.set);
      ms.set(id, {
        manager: manager || 'unknown', operation, apiVersion, subresource, time: formatTime(now),
        set: same ? before.set : set, encoded: same ? before.encoded : undefined,
      });
    }
    capUpdateManagers(ms);
    const entries = encodeManaged(ms);
    if (entries) meta.managedFields = entries as unknown as JSONValue;
  } catch (err) {
    // Upstream never fails a write over managedFields: it keeps the live ones instead.
    if (!(err instanceof TypedError || err instanceof FieldsV1Error || err instanceof ManagedFieldsError)) throw err;
    if (liveEntries !== undefined) meta.managedFields = cloneJSON(liveEntries); else delete meta.managedFields;
  }
}

// Tests compare the create fast path with the general one over a corpus of objects.
let forceGeneralPath = false;
/** For tests: whether updateManagedFields skips its create fast path (createdFieldsV1). */
export function setGeneralPathForTesting(on: boolean): void { forceGeneralPath = on; }

function decodeOrEmpty(entries: unknown): ManagedMap {
  try { return decodeManaged(entries); } catch { return new Map(); }
}

/**
 * Server-side apply of `applied` (the body of an application/apply-patch+yaml PATCH, parsed) by
 * `manager` onto `live` (undefined when the object does not exist yet: the result is what to
 * create). Neither argument is modified. With conflicts and !force, nothing is applied: the
 * server answers 409 (see conflictStatusMessage). An object that was never applied to gets a
 * "before-first-apply" Update entry owning everything it already had.
 */
export function serverSideApply(
  source: SchemaSource, live: object | undefined, applied: object, manager: string, force: boolean, now: Date = new Date(),
  options?: ApplyOptions,
): ApplyResult {
  const config = applied as JSONObject;
  const liveObj = live as JSONObject | undefined;
  if (!isObject(config)) throw new ManagedFieldsError('InvalidApply', 'the applied configuration must be an object');
  checkApplied(source, config, liveObj);
  const root = nodeFor(source);
  const apiVersion = apiVersionFor(source, config, liveObj);
  const applier = manager || 'unknown';
  let ms = decodeManaged(liveObj ? metaOf(liveObj)?.managedFields : undefined);
  try {
    if (liveObj && ms.size === 0) {
      const owned = filtered(compare(undefined, liveObj, root), ignoredPaths(options)).added.difference(stripSet);
      if (!owned.isEmpty()) {
        ms = new Map(ms);
        ms.set(managerId(BEFORE_FIRST_APPLY, 'Update', apiVersion, undefined),
          { manager: BEFORE_FIRST_APPLY, operation: 'Update', apiVersion, subresource: undefined, time: formatTime(now), set: owned });
      }
    }
    const opts: ApplyContext = { subresource: options?.subresource || undefined, ignore: ignoredPaths(options) };
    let result = applyOnce(root, liveObj, config, ms, applier, apiVersion, force, now, opts);
    if (result.conflicts.length > 0 && !force && applier === 'kubectl' && liveObj) {
      // Fields kubectl applied client-side with the same values are taken over without a conflict.
      const allowed = allowedFromLastApplied(root, liveObj, apiVersion);
      if (allowed) {
        const rest = result.conflicts.filter((c) => !allowed.has(c.path));
        result = rest.length === 0 ? applyOnce(root, liveObj, config, ms, applier, apiVersion, true, now, opts) : { ...result, conflicts: rest };
      }
    }
    if (result.conflicts.length > 0) {
      return { object: undefined, conflicts: result.conflicts.map(({ manager: m, field, message }) => ({ manager: m, field, message })) };
    }
    return { object: result.object, conflicts: [] };
  } catch (err) {
    if (err instanceof TypedError) throw new ManagedFieldsError('InvalidObject', err.message, { cause: err });
    throw err;
  }
}

function checkApplied(source: SchemaSource, config: JSONObject, live: JSONObject | undefined): void {
  if (isKindSource(source)) {
    const g = source;
    const want = g.group ? `${g.group}/${g.version}` : g.version;
    if (config.apiVersion !== want || config.kind !== g.kind) {
      throw new ManagedFieldsError('InvalidApply', `invalid object type: ${String(config.apiVersion)}, Kind=${String(config.kind)}; expected ${want}, Kind=${g.kind}`);
    }
  } else if (live && (config.apiVersion !== live.apiVersion || config.kind !== live.kind)) {
    throw new ManagedFieldsError('InvalidApply', `invalid object type: ${String(config.apiVersion)}, Kind=${String(config.kind)}; expected ${String(live.apiVersion)}, Kind=${String(live.kind)}`);
  }
  const meta = config.metadata;
  if (meta !== undefined && meta !== null && !isObject(meta)) throw new ManagedFieldsError('InvalidApply', 'metadata must be an object');
  if (isObject(meta) && meta.managedFields !== undefined && meta.managedFields !== null) {
    throw new ManagedFieldsError('InvalidApply', 'metadata.managedFields must be nil');
  }
}

interface InternalConflict extends ApplyConflict { path: string[] }

function describeManager(m: Managed): string {
  let s = JSON.stringify(m.manager);
  if (m.subresource) s += ` with subresource ${JSON.stringify(m.subresource)}`;
  if (m.operation === 'Update') s += ` using ${m.apiVersion}`;
  return s;
}

interface ApplyContext { subresource: string | undefined; ignore: string[][] | undefined }

function applyOnce(
  root: SchemaNode, live: JSONObject | undefined, config: JSONObject, managed: ManagedMap,
  applier: string, apiVersion: string, force: boolean, now: Date, ctx: ApplyContext,
): { object: JSONObject | undefined; conflicts: InternalConflict[] } {
  const ms: ManagedMap = new Map(managed);
  const id = managerId(applier, 'Apply', apiVersion, ctx.subresource);
  const previous = ms.get(id);
  const merged = merge(live, config, root);
  const set = ctx.ignore ? toFieldSet(config, root).withoutPrefixes(ctx.ignore) : toFieldSet(config, root);
  ms.set(id, { manager: applier, operation: 'Apply', apiVersion, subresource: ctx.subresource, time: previous?.time, set });
  // Pruning can only remove what the last apply set and this one does not: skip it when nothing was dropped.
  const next = previous && !previous.set.difference(set).isEmpty() ? prune(root, merged, ms, previous.set) : merged;

  const cmp = filtered(compare(live, next, root), ctx.ignore);
  const changed = cmp.modified.union(cmp.added);
  const conflicts: InternalConflict[] = [];
  for (const [other, m] of ms) {
    if (other === id) continue;
    const c = m.set.intersection(changed);
    if (c.isEmpty()) continue;
    const message = `conflict with ${describeManager(m)}`;
    for (const path of c.paths()) conflicts.push({ manager: m.manager, field: pathString(path), message, path });
  }
  if (conflicts.length > 0 && !force) {
    conflicts.sort((a, b) => (a.manager < b.manager ? -1 : a.manager > b.manager ? 1 : 0));
    return { object: undefined, conflicts };
  }
  for (const [other, m] of ms) {
    if (other === id) continue;
    const s = m.set.difference(changed).difference(cmp.removed);
    if (s.isEmpty()) ms.delete(other); else ms.set(other, withSet(m, s));
  }
  const noop = live !== undefined && cmp.added.isEmpty() && cmp.modified.isEmpty() && cmp.removed.isEmpty() && deepEqual(live, next);
  const mine = ms.get(id)!.set.difference(stripSet);
  if (mine.isEmpty()) ms.delete(id);
  else {
    // An unchanged set keeps its FieldsV1 as it was (no re-encoding on every re-apply).
    const same = previous?.encoded && mine.equals(previous.set) ? previous : undefined;
    ms.set(id, { ...ms.get(id)!, set: same ? same.set : mine, time: noop ? previous?.time ?? formatTime(now) : formatTime(now), encoded: same?.encoded });
  }

  const meta = isObject(next.metadata) ? next.metadata : (next.metadata = {});
  if (applier === 'kubectl' && isObject(meta.annotations) && typeof meta.annotations[LAST_APPLIED_ANNOTATION] === 'string' && meta.annotations[LAST_APPLIED_ANNOTATION] !== '') {
    meta.annotations[LAST_APPLIED_ANNOTATION] = buildLastApplied(config);
  }
  const entries = encodeManaged(ms);
  if (entries) meta.managedFields = entries as unknown as JSONValue; else delete meta.managedFields;
  return { object: next, conflicts: [] };
}

// Remove what this manager applied last time and no longer applies, unless another manager owns
// it (structured-merge-diff's Updater.prune with addBackOwnedItems and addBackDanglingItems).
function prune(root: SchemaNode, merged: JSONObject, ms: ManagedMap, last: FieldSet): JSONObject {
  const ensure = (s: FieldSet) => ensureNamedFieldsAreMembers(s, root);
  const lastSet = ensure(last);
  const pruned = removeItems(merged, lastSet, root);
  let owned = new FieldSet();
  for (const m of ms.values()) owned = owned.union(ensure(m.set));
  const mergedSet = ensure(toFieldSet(merged, root));
  const prunedSet = ensure(toFieldSet(pruned, root));
  const keep = removeItems(merged, mergedSet.difference(prunedSet.union(owned)), root);
  const keepSet = ensure(toFieldSet(keep, root));
  return removeItems(merged, mergedSet.difference(keepSet).intersection(lastSet), root);
}

function buildLastApplied(config: JSONObject): string {
  const copy = cloneJSON(config);
  const meta = copy.metadata;
  if (isObject(meta) && isObject(meta.annotations)) {
    delete meta.annotations[LAST_APPLIED_ANNOTATION];
    if (Object.keys(meta.annotations).length === 0) delete meta.annotations;
  }
  return JSON.stringify(copy);
}

function allowedFromLastApplied(root: SchemaNode, live: JSONObject, apiVersion: string): FieldSet | undefined {
  const meta = metaOf(live);
  const text = meta && isObject(meta.annotations) ? meta.annotations[LAST_APPLIED_ANNOTATION] : undefined;
  if (typeof text !== 'string' || text === '') return undefined;
  let last: unknown;
  try { last = JSON.parse(text); } catch { return undefined; }
  if (!isObject(last) || last.apiVersion !== apiVersion) return undefined;
  try {
    const cmp = compare(last, live, root);
    return toFieldSet(last, root).difference(cmp.modified).difference(cmp.added).difference(cmp.removed);
  } catch {
    return undefined;
  }
}

/** The Status message upstream gives a 409 for apply conflicts (apimachinery managedfields/internal/conflict.go). */
export function conflictStatusMessage(conflicts: ApplyConflict[]): string {
  if (conflicts.length === 1) return `Apply failed with 1 conflict: ${conflicts[0].message}: ${conflicts[0].field}`;
  const byManager = new Map<string, ApplyConflict[]>();
  for (const c of conflicts) {
    const key = c.message.replace(/^conflict with /, '');
    const l = byManager.get(key);
    if (l) l.push(c); else byManager.set(key, [c]);
  }
  const lines: string[] = [];
  for (const key of [...byManager.keys()].sort()) {
    lines.push(`conflicts with ${key}:`);
    for (const c of byManager.get(key)!) lines.push(`- ${c.field}`);
  }
  return `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`;
}

/** Whether `source` names a kind (rather than carrying a schema), for callers choosing a path. */
export function isKindSource(source: SchemaSource): source is GroupVersionKindLike {
  return !isSchemaNode(source) && !('schema' in source);
}
