// The four walks server-side apply makes over an object and its schema, after
// structured-merge-diff's typed package: the set of fields an object sets, the comparison of two
// objects, the merge of an applied configuration into a live object, and the removal of fields.
// Lists merge by their list type (map: by key fields, set: by value, atomic: whole), structs and
// maps key by key unless atomic; data the schema does not describe merges like JSON (maps
// granular, lists atomic).

import { cloneJSON, deepEqual, isObject, type JSONObject, type JSONValue } from '../patch/json';
import type { SchemaNode } from '../patch/schema';
import { compareElements, fieldElement, FieldSet, keyElement, valueElement } from './fieldset';

export class TypedError extends Error {
  override readonly name = 'TypedError';
  readonly code = 'InvalidObject';
}

type Shape = 'leaf' | 'fields' | 'declared' | 'keyed';
// 'fields': a granular map whose keys are all owned individually (map or undescribed object);
// 'declared': a struct (declared fields are "named fields"); 'keyed': a list of map or set type.

function shapeOf(node: SchemaNode, v: JSONValue | undefined): Shape {
  if (Array.isArray(v)) {
    return node.kind === 'list' && node.listType !== 'atomic' ? 'keyed' : 'leaf';
  }
  if (isObject(v)) {
    if (node.atomicMap) return 'leaf';
    if (node.kind === 'struct') return 'declared';
    if (node.kind === 'map' || node.kind === 'unknown') return 'fields';
    return 'leaf';
  }
  return 'leaf';
}

function isEmptyContainer(v: JSONValue | undefined): boolean {
  if (v === undefined || v === null) return v === undefined;
  if (Array.isArray(v)) return v.length === 0;
  if (isObject(v)) { for (const _ in v) return false; return true; }
  return false;
}

/** The path element of a list item: k:{keys} for list-type map, v:value for list-type set. */
export function itemElement(list: SchemaNode, item: JSONValue): string {
  // Live objects come from the apiserver's cache and are walked several times per write.
  if (isObject(item) && list.listType === 'map') {
    const keys = list.listMapKeys;
    const hit = itemElements.get(item);
    if (hit && hit.list === list && keys.every((k, i) => item[k] === hit.values[i])) return hit.pe;
    const pe = computeItemElement(list, item);
    itemElements.set(item, { list, values: keys.map((k) => item[k]), pe });
    return pe;
  }
  return computeItemElement(list, item);
}

// Key values are checked on every hit, so an item edited in place is never given a stale element.
const itemElements = new WeakMap<object, { list: SchemaNode; values: Array<JSONValue | undefined>; pe: string }>();

function computeItemElement(list: SchemaNode, item: JSONValue): string {
  if (list.listType === 'set') {
    if (typeof item === 'object' && item !== null) throw new TypedError('associative list without keys has an element that is a map or a list');
    return valueElement(item);
  }
  if (!isObject(item)) throw new TypedError('associative list with keys may not have non-map elements');
  const fields: Array<[string, JSONValue]> = [];
  for (const k of list.listMapKeys) {
    const v = item[k];
    if (v !== undefined) fields.push([k, v]);
    else {
      const d = list.keyDefault(k);
      if (d !== undefined) fields.push([k, d]);
    }
  }
  if (fields.length === 0) throw new TypedError(`associative list with keys has an element that omits all key fields ${JSON.stringify(list.listMapKeys)}`);
  return keyElement(fields);
}

/** The node below `node` for a path element. */
export function childNode(node: SchemaNode, pe: string): SchemaNode {
  return pe.charCodeAt(0) === 102 /* f */ ? node.field(pe.slice(2)) : node.items;
}

// metadata.managedFields is never part of a field set nor compared: it is what we compute.
function skipKey(path: readonly string[] | number, key: string): boolean {
  return key === 'managedFields' && (typeof path === 'number' ? path === 1 : path.length === 1 && path[0] === 'f:metadata');
}

// ----- ToFieldSet -----

/** The set of fields `obj` sets (structured-merge-diff's ToFieldSet). */
export function toFieldSet(obj: JSONObject, root: SchemaNode): FieldSet {
  return fieldsOf(obj, root, 0) ?? new FieldSet();
}

// undefined means "this path is a leaf member"; a FieldSet holds what lies below the path.
function fieldsOf(v: JSONValue, node: SchemaNode, depth: number, parentIsMeta = false): FieldSet | undefined {
  const shape = shapeOf(node, v);
  if (shape === 'leaf' || isEmptyContainer(v) && !Array.isArray(v)) return undefined;
  const out = new FieldSet();
  if (shape === 'keyed') {
    const list = v as JSONValue[];
    const seen = new Set<string>();
    let dups: Set<string> | undefined;
    const pes = list.map((item) => {
      const pe = itemElement(node, item);
      if (seen.has(pe)) (dups ??= new Set()).add(pe); else seen.add(pe);
      return pe;
    });
    for (let i = 0; i < list.length; i++) {
      const pe = pes[i];
      out.addMember(pe);
      if (dups?.has(pe)) continue;
      const c = fieldsOf(list[i], node.items, depth + 1);
      if (c && !c.isEmpty()) (out.children ??= new Map()).set(pe, c);
    }
    return out;
  }
  const m = v as JSONObject;
  for (const k in m) {
    const cv = m[k];
    if (cv === undefined || (parentIsMeta && k === 'managedFields')) continue;
    const pe = fieldElement(k);
    const c = fieldsOf(cv, node.field(k), depth + 1, depth === 0 && k === 'metadata');
    if (c === undefined) { out.addMember(pe); continue; }
    if (!c.isEmpty()) (out.children ??= new Map()).set(pe, c);
    if (shape === 'fields' && !node.hasField(k)) out.addMember(pe);
  }
  return out;
}

// ----- Compare -----

export interface Comparison { added: FieldSet; modified: FieldSet; removed: FieldSet }

/** What changed from `lhs` to `rhs`: paths added, modified (leaves) and removed. */
export function compare(lhs: JSONObject | undefined, rhs: JSONObject, root: SchemaNode): Comparison {
  const res: Comparison = { added: new FieldSet(), modified: new FieldSet(), removed: new FieldSet() };
  const path: string[] = [];
  compareAt(path, lhs ?? {}, rhs, root, res);
  return res;
}

function compareAt(path: string[], l: JSONValue | undefined, r: JSONValue | undefined, node: SchemaNode, res: Comparison): void {
  // A subtree shared by both objects (a status write keeps the live spec) has no changes.
  if (l === r && l !== undefined) return;
  const sl = l === undefined ? undefined : shapeOf(node, l);
  const sr = r === undefined ? undefined : shapeOf(node, r);
  const shape = sr ?? sl!;
  const leaf = shape === 'leaf' || (sl !== undefined && sr !== undefined && sl !== sr) || (isEmptyContainer(l) && isEmptyContainer(r));
  if (leaf) {
    if (l === undefined) res.added.insert(path);
    else if (r === undefined) res.removed.insert(path);
    else if (!deepEqual(l, r)) res.modified.insert(path);
    return;
  }
  if (shape === 'keyed') {
    const li = indexItems(node, l as JSONValue[] | undefined);
    const ri = indexItems(node, r as JSONValue[] | undefined);
    for (const [pe, lv] of li) {
      path.push(pe);
      const rv = ri.get(pe);
      if (lv === DUP || rv === DUP) {
        if (rv === undefined) res.removed.insert(path);
        else if (lv !== DUP || rv !== DUP) res.modified.insert(path);
      } else compareAt(path, lv, rv, node.items, res);
      path.pop();
    }
    for (const [pe, rv] of ri) {
      if (li.has(pe)) continue;
      path.push(pe);
      if (rv === DUP) res.added.insert(path); else compareAt(path, undefined, rv, node.items, res);
      path.pop();
    }
  } else {
    const lm = (l ?? {}) as JSONObject;
    const rm = (r ?? {}) as JSONObject;
    for (const k in lm) {
      if (lm[k] === undefined || skipKey(path, k)) continue;
      path.push(fieldElement(k));
      compareAt(path, lm[k], rm[k], node.field(k), res);
      path.pop();
    }
    for (const k in rm) {
      if (rm[k] === undefined || (k in lm && lm[k] !== undefined) || skipKey(path, k)) continue;
      path.push(fieldElement(k));
      compareAt(path, undefined, rm[k], node.field(k), res);
      path.pop();
    }
  }
  // A struct field's own path is not recorded: upstream's typed objects always carry their
  // non-pointer structs (spec, template, ...), so only maps and list items appear or disappear whole.
  if (path.length > 0 && (shape !== 'declared' || path[path.length - 1].charCodeAt(0) !== 102 /* f */)) {
    if (l === undefined) res.added.insert(path);
    else if (r === undefined) res.removed.insert(path);
  }
}

// ----- the FieldsV1 of a create -----

// Members the server owns (upstream's stripMetaManager): at the root and directly below metadata.
const ROOT_STRIPPED = new Set(['f:apiVersion', 'f:kind', 'f:metadata']);
const META_STRIPPED = new Set(['name', 'namespace', 'creationTimestamp', 'selfLink', 'uid', 'clusterName', 'generation', 'managedFields', 'resourceVersion'].map(fieldElement));

/**
 * The FieldsV1 a create records for `obj` (every field it sets less those the server owns), or
 * undefined when that is empty: exactly encodeFieldsV1(compare(undefined, obj).added minus the
 * server's fields), built in one walk without intermediate sets. Throws TypedError as compare does.
 */
export function createdFieldsV1(obj: JSONObject, root: SchemaNode): JSONObject | undefined {
  if (shapeOf(root, obj) === 'leaf' || isEmptyContainer(obj)) return undefined;
  const out = childrenOf(obj, root, 0, ROOT_STRIPPED);
  // Written as JSON text and parsed once: JSON.parse builds these many-keyed objects faster than
  // assignments do. (Not cached by text: admission's kube-api-access-<random> volume makes nearly
  // every pod's FieldsV1 unique.)
  return out.length ? JSON.parse(encodeEntries(out, '{')) as JSONObject : undefined;
}

// One path element of a create's set: `key` is its JSON text with the colon ("f:x":).
interface Added { pe: string; key: string; json: string }

// Per schema node, what each field name maps to (its element, the element's JSON key and the
// field's node), so the walk does no string building or schema lookup for fields seen before.
interface FieldPlan { pe: string; key: string; node: SchemaNode }
const fieldPlans = new WeakMap<SchemaNode, Map<string, FieldPlan>>();

function fieldPlan(node: SchemaNode, k: string): FieldPlan {
  let plans = fieldPlans.get(node);
  if (!plans) { plans = new Map(); fieldPlans.set(node, plans); }
  let p = plans.get(k);
  if (!p) {
    const pe = fieldElement(k);
    p = { pe, key: `${JSON.stringify(pe)}:`, node: node.field(k) };
    // Maps (labels, annotations, data) bring arbitrary keys: keep what one node remembers bounded.
    if (plans.size >= 1024) plans.clear();
    plans.set(k, p);
  }
  return p;
}

// The entries below a non-leaf value (compareAt with lhs undefined); `strip`: members to leave out.
function childrenOf(v: JSONValue, node: SchemaNode, depth: number, strip: Set<string> | undefined, shape = shapeOf(node, v)): Added[] {
  const out: Added[] = [];
  if (shape === 'keyed') {
    const list = v as JSONValue[];
    const items = node.items;
    // Request bodies are fresh objects: their elements are computed, not cached (itemElement).
    const seen = new Map<string, JSONValue | typeof DUP>();
    for (let i = 0; i < list.length; i++) {
      const pe = computeItemElement(node, list[i]);
      seen.set(pe, seen.has(pe) ? DUP : list[i]);
    }
    for (const [pe, item] of seen) {
      if (item === DUP) out.push({ pe, key: `${JSON.stringify(pe)}:`, json: '{}' });
      else addChild(out, pe, `${JSON.stringify(pe)}:`, item, items, depth + 1, undefined, undefined);
    }
    return out;
  }
  const m = v as JSONObject;
  const meta = depth === 1 && strip === META_STRIPPED;
  for (const k in m) {
    const cv = m[k];
    if (cv === undefined || (meta && k === 'managedFields')) continue;
    const p = fieldPlan(node, k);
    addChild(out, p.pe, p.key, cv, p.node, depth + 1, strip, depth === 0 && k === 'metadata' ? META_STRIPPED : undefined);
  }
  return out;
}

function addChild(out: Added[], pe: string, key: string, v: JSONValue, node: SchemaNode, depth: number, strip: Set<string> | undefined, below: Set<string> | undefined): void {
  const shape = shapeOf(node, v);
  let member: boolean;
  let children: Added[] | undefined;
  if (shape === 'leaf' || isEmptyContainer(v)) member = true;
  else {
    children = childrenOf(v, node, depth, below, shape);
    if (children.length === 0) children = undefined;
    // A struct field's own path is not recorded (see compareAt).
    member = shape !== 'declared' || pe.charCodeAt(0) !== 102 /* f */;
  }
  if (member && strip !== undefined && strip.has(pe)) member = false;
  if (children) out.push({ pe, key, json: encodeEntries(children, member ? '{".":{}' : '{') });
  else if (member) out.push({ pe, key, json: '{}' });
}

// `{` + the entries in structured-merge-diff's order + `}`; `open` may already hold ".".
function encodeEntries(entries: Added[], open: string): string {
  if (entries.length > 1) entries.sort(byElement);
  let s = open;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    s += i === 0 && open.length === 1 ? e.key + e.json : `,${e.key}${e.json}`;
  }
  return `${s}}`;
}

const byElement = (a: Added, b: Added): number => compareElements(a.pe, b.pe);

const DUP = Symbol('duplicate');
function indexItems(node: SchemaNode, list: JSONValue[] | undefined): Map<string, JSONValue | typeof DUP> {
  const m = new Map<string, JSONValue | typeof DUP>();
  if (!list) return m;
  for (const item of list) {
    const pe = itemElement(node, item);
    m.set(pe, m.has(pe) ? DUP : item);
  }
  return m;
}

// ----- Merge -----

/** The applied configuration `rhs` merged into `lhs`; a new value sharing nothing with either. */
export function merge(lhs: JSONObject | undefined, rhs: JSONObject, root: SchemaNode): JSONObject {
  return mergeAt(lhs ?? {}, rhs, root, 0) as JSONObject;
}

function mergeAt(l: JSONValue | undefined, r: JSONValue | undefined, node: SchemaNode, depth: number, isMeta = false): JSONValue | undefined {
  if (r === undefined) return cloneJSON(l);
  if (l === undefined || r === null) return cloneJSON(r);
  const sl = shapeOf(node, l);
  const sr = shapeOf(node, r);
  if (sr === 'leaf' || sl !== sr || (isEmptyContainer(l) && isEmptyContainer(r))) return cloneJSON(r);
  if (sr === 'keyed') return mergeList(l as JSONValue[], r as JSONValue[], node, depth);
  const lm = l as JSONObject;
  const rm = r as JSONObject;
  const out: JSONObject = {};
  for (const k in lm) {
    if (lm[k] === undefined || k === '__proto__') continue;
    if (isMeta && k === 'managedFields') { out[k] = lm[k]; continue; } // replaced by the caller, never edited
    const rv = rm[k];
    if (rv === null) continue; // an applied null clears the field (typed objects omit it)
    const v = rv === undefined ? cloneJSON(lm[k]) : mergeAt(lm[k], rv, node.field(k), depth + 1, depth === 0 && k === 'metadata');
    if (v !== undefined) out[k] = v;
  }
  for (const k in rm) {
    if (k === '__proto__' || k in out || rm[k] === undefined || rm[k] === null || (k in lm && lm[k] !== undefined)) continue;
    out[k] = mergeAt(undefined, rm[k], node.field(k), depth + 1)!;
  }
  return out;
}

// Items keep the applied order; live-only items stay where they were relative to the others
// (structured-merge-diff's merge of associative lists).
function mergeList(l: JSONValue[], r: JSONValue[], node: SchemaNode, depth: number): JSONValue[] {
  const lItems = new Map<string, JSONValue>();
  const lPEs: string[] = [];
  for (const item of l) { const pe = itemElement(node, item); if (!lItems.has(pe)) { lItems.set(pe, item); lPEs.push(pe); } }
  const rItems = new Map<string, JSONValue>();
  const rPEs: string[] = [];
  for (const item of r) { const pe = itemElement(node, item); if (!rItems.has(pe)) { rItems.set(pe, item); rPEs.push(pe); } }
  const shared = rPEs.filter((pe) => lItems.has(pe));
  let s = 0;
  let nextShared: string | undefined = shared[s++];
  const done = new Set<string>();
  const out: JSONValue[] = [];
  const items = node.items;
  let li = 0;
  let ri = 0;
  while (li < lPEs.length || ri < rPEs.length) {
    if (li < lPEs.length && ri < rPEs.length) {
      const pe = lPEs[li];
      if (pe === rPEs[ri]) {
        done.add(pe);
        out.push(mergeAt(lItems.get(pe), rItems.get(pe), items, depth + 1)!);
        li++; ri++;
        nextShared = shared[s++];
        continue;
      }
      if (rItems.has(pe) && nextShared !== undefined && nextShared !== pe) { li++; continue; }
    }
    if (li < lPEs.length) {
      const pe = lPEs[li];
      if (!rItems.has(pe)) { out.push(cloneJSON(lItems.get(pe)!)); li++; continue; }
      if (done.has(pe)) li++;
    }
    if (ri < rPEs.length) {
      const pe = rPEs[ri];
      done.add(pe);
      out.push(mergeAt(lItems.get(pe), rItems.get(pe), items, depth + 1)!);
      ri++;
      if (nextShared === pe) nextShared = shared[s++];
    }
  }
  return out;
}

// ----- RemoveItems -----

/** `v` without the paths in `set` (a removed path takes everything below it). */
export function removeItems(v: JSONObject, set: FieldSet, root: SchemaNode): JSONObject {
  return (removeAt(v, set, root) as JSONObject | undefined) ?? {};
}

function removeAt(v: JSONValue, set: FieldSet, node: SchemaNode): JSONValue | undefined {
  const shape = shapeOf(node, v);
  if (shape === 'leaf' || isEmptyContainer(v)) return v;
  if (shape === 'keyed') {
    const out: JSONValue[] = [];
    for (const item of v as JSONValue[]) {
      const pe = itemElement(node, item);
      if (set.members?.has(pe)) continue;
      const c = set.children?.get(pe);
      if (!c) { out.push(item); continue; }
      const r = removeAt(item, c, node.items);
      if (r !== undefined) out.push(r);
    }
    return out.length ? out : undefined;
  }
  const m = v as JSONObject;
  const out: JSONObject = {};
  let any = false;
  for (const k in m) {
    const pe = fieldElement(k);
    if (set.members?.has(pe)) continue;
    const c = set.children?.get(pe);
    const r = c ? removeAt(m[k], c, node.field(k)) : m[k];
    if (r !== undefined) { out[k] = r; any = true; }
  }
  return any ? out : undefined;
}

/** The set plus every declared struct field that has paths below it (EnsureNamedFieldsAreMembers). */
export function ensureNamedFieldsAreMembers(set: FieldSet, node: SchemaNode): FieldSet {
  if (!set.children) return set;
  const out = new FieldSet();
  out.members = set.members ? new Set(set.members) : undefined;
  out.children = new Map();
  for (const [pe, c] of set.children) {
    if (pe.charCodeAt(0) === 102 && node.kind === 'struct' && node.hasField(pe.slice(2))) out.addMember(pe);
    out.children.set(pe, ensureNamedFieldsAreMembers(c, childNode(node, pe)));
  }
  return out;
}
