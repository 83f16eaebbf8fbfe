// Strategic merge patch (application/strategic-merge-patch+json), with the semantics of
// k8s.io/apimachinery/pkg/util/strategicpatch as the apiserver applies it (MergeParallelList and
// IgnoreUnmatchedNulls on): maps merge key by key, null deletes, lists replace unless their
// patch strategy is merge, in which case items with the same merge key merge and primitives
// form a set; plus the directives `$patch` (replace, delete), `$retainKeys`,
// `$setElementOrder/<list>` and `$deleteFromPrimitiveList/<list>`.
//
// The original is deep-copied once (managedFields entries shared, see cloneForPatch) and then
// edited in place; the patch is never modified.

import { PatchError } from './errors';
import { cloneForPatch, isObject, type JSONObject, type JSONValue } from './json';
import type { SchemaNode } from './schema';

const DIRECTIVE = '$patch';
const RETAIN_KEYS = '$retainKeys';
const SET_ORDER = '$setElementOrder/';
const DELETE_FROM_PRIMITIVE_LIST = '$deleteFromPrimitiveList/';

type Kind = 'object' | 'array' | 'string' | 'number' | 'boolean' | 'null';
function kindOf(v: JSONValue): Kind {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v as Kind;
}

function short(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 200 ? `${s.slice(0, 200)}...` : s;
}

/** The one strategy besides retainKeys (upstream allows at most "x,retainKeys"). */
function strategyOf(node: SchemaNode): string {
  for (const s of node.patchStrategies) if (s !== 'retainKeys') return s;
  return '';
}

/** Applies `patch` to `original` and returns the result; neither argument is modified. */
export function strategicMergePatch(original: JSONObject, patch: JSONObject, root: SchemaNode): JSONObject {
  if (!isObject(original)) throw new PatchError('InvalidPatch', 'invalid JSON document: the object to patch is not a JSON object');
  if (!isObject(patch)) throw new PatchError('InvalidPatch', 'invalid JSON document: a strategic merge patch must be a JSON object');
  return mergeMap(cloneForPatch(original), patch, root);
}

// A patch value that lands where the original has nothing (or something of another type): its
// directives are processed against an empty original, nulls dropped; a map carrying `$patch`
// drops out entirely, as upstream's removeDirectives does.
function patchValueAlone(v: JSONValue, node: SchemaNode): { keep: boolean; value: JSONValue } {
  if (isObject(v)) {
    if (v[DIRECTIVE] !== undefined) return { keep: false, value: null };
    return { keep: true, value: mergeMap({}, v, node) };
  }
  if (Array.isArray(v)) return { keep: true, value: patchListAlone(v, node.items) };
  return { keep: true, value: v };
}

function patchListAlone(list: JSONValue[], items: SchemaNode): JSONValue[] {
  const out: JSONValue[] = [];
  for (const item of list) {
    const r = patchValueAlone(item, items);
    if (r.keep && r.value !== null) out.push(r.value);
  }
  return out;
}

function mergeMap(original: JSONObject, patch: JSONObject, node: SchemaNode): JSONObject {
  const directive = patch[DIRECTIVE];
  if (directive !== undefined) {
    if (directive === 'replace') {
      const replaced: JSONObject = {};
      for (const k in patch) {
        if (k === DIRECTIVE || patch[k] === null) continue;
        const r = patchValueAlone(patch[k], node.field(k));
        if (r.keep) replaced[k] = r.value;
      }
      return replaced;
    }
    if (directive === 'delete') return {};
    throw new PatchError('InvalidPatch', `unknown patch type: ${short(directive)} in map: ${short(patch)}`);
  }

  const retainKeys = patch[RETAIN_KEYS];
  if (retainKeys !== undefined) {
    if (!Array.isArray(retainKeys)) throw new PatchError('InvalidPatch', 'invalid patch format of retainKeys: $retainKeys must be a list of field names');
    const keep = new Set<JSONValue>(retainKeys);
    for (const k in patch) {
      if (k === RETAIN_KEYS || patch[k] === null || k.startsWith(DELETE_FROM_PRIMITIVE_LIST) || k.startsWith(SET_ORDER)) continue;
      if (!keep.has(k)) throw new PatchError('InvalidPatch', `invalid patch format of retainKeys: field "${k}" is in the patch but not in $retainKeys ${short(retainKeys)}`);
    }
    for (const k of Object.keys(original)) if (!keep.has(k)) delete original[k];
  }

  // $setElementOrder lists first: they merge their list and fix its order in one step.
  let done: Set<string> | undefined;
  for (const k in patch) {
    if (!k.startsWith(SET_ORDER)) continue;
    const listKey = k.slice(SET_ORDER.length);
    if (listKey === '') throw new PatchError('InvalidPatch', `invalid patch format of setElementOrder list: "${k}" names no list`);
    mergeWithElementOrder(original, patch, listKey, patch[k], node.field(listKey));
    (done ??= new Set()).add(listKey);
  }

  for (const k in patch) {
    if (k === RETAIN_KEYS || k.startsWith(SET_ORDER)) continue;
    if (k === '__proto__') throw new PatchError('InvalidPatch', 'invalid patch: "__proto__" is not a field name');
    let key = k;
    let isDeleteList = false;
    if (k.startsWith(DELETE_FROM_PRIMITIVE_LIST)) {
      key = k.slice(DELETE_FROM_PRIMITIVE_LIST.length);
      if (key === '') throw new PatchError('InvalidPatch', `invalid patch format of primitive list: "${k}" names no list`);
      isDeleteList = true;
    } else if (done?.has(k)) {
      continue;
    }
    const pv = patch[k];
    if (pv === undefined) continue;
    if (pv === null) { delete original[key]; continue; }
    const ov = original[key];
    const child = node.field(key);
    if (ov === undefined || ov === null || kindOf(ov) !== kindOf(pv)) {
      if (isDeleteList) continue;
      const r = patchValueAlone(pv, child);
      if (r.keep) original[key] = r.value; else delete original[key];
      continue;
    }
    if (isObject(ov)) {
      if (strategyOf(child) === 'replace') {
        const r = patchValueAlone(pv, child);
        if (r.keep) original[key] = r.value; else delete original[key];
      } else {
        original[key] = mergeMap(ov, pv as JSONObject, child);
      }
    } else if (Array.isArray(ov)) {
      original[key] = mergeListField(ov, pv as JSONValue[], child, isDeleteList);
    } else {
      original[key] = pv;
    }
  }
  return original;
}

function mergeListField(original: JSONValue[], patch: JSONValue[], node: SchemaNode, isDeleteList: boolean): JSONValue[] {
  if (strategyOf(node) === 'merge' || isDeleteList) return mergeList(original, patch, node, isDeleteList);
  return patchListAlone(patch, node.items);
}

/** 'object' for lists of maps, 'scalar' for lists of primitives, undefined for empty lists. */
function elementKind(...lists: (JSONValue[] | undefined)[]): 'object' | 'scalar' | undefined {
  let first: Kind | undefined;
  for (const l of lists) {
    if (!l) continue;
    for (const v of l) {
      const k = kindOf(v);
      if (k === 'array') throw new PatchError('ListOfLists', 'lists of lists are not supported');
      if (first === undefined) first = k;
      else if (first !== k) throw new PatchError('PatchNotApplicable', `list element types are not identical: ${short(lists)}`);
    }
  }
  if (first === undefined) return undefined;
  return first === 'object' ? 'object' : 'scalar';
}

function keyOf(item: JSONValue, mergeKey: string | undefined): JSONValue | undefined {
  if (mergeKey === undefined) return item;
  return isObject(item) ? item[mergeKey] : undefined;
}

function requireMergeKey(item: JSONValue, mergeKey: string): JSONValue {
  if (!isObject(item)) throw new PatchError('PatchNotApplicable', `expected a map in a list merged by "${mergeKey}", got ${short(item)}`);
  const v = item[mergeKey];
  if (v === undefined) throw new PatchError('MissingMergeKey', `map: ${short(item)} does not contain declared merge key: ${mergeKey}`);
  return v;
}

function isDeleteItem(item: JSONValue): boolean {
  return isObject(item) && item[DIRECTIVE] === 'delete';
}

function mergeList(original: JSONValue[], patch: JSONValue[], node: SchemaNode, isDeleteList: boolean): JSONValue[] {
  if (original.length === 0 && patch.length === 0) return original;
  const kind = elementKind(original, patch);
  const mergeKey = node.patchMergeKey;
  if (kind !== 'object') {
    if (isDeleteList) {
      const drop = new Set<JSONValue>(patch);
      return original.filter((v) => !drop.has(v));
    }
    const seen = new Set<JSONValue>();
    const merged: JSONValue[] = [];
    for (const v of original) if (!seen.has(v)) { seen.add(v); merged.push(v); }
    for (const v of patch) if (!seen.has(v)) { seen.add(v); merged.push(v); }
    return orderAfterMerge(merged, patch, original, undefined);
  }
  if (!mergeKey) throw new PatchError('PatchNotApplicable', 'cannot merge lists without merge key');

  // Special elements: {$patch: delete, key: v} removes every item with that key; {$patch: replace}
  // makes the rest of the patch list the whole list.
  let items = original;
  const plain: JSONObject[] = [];
  let replace = false;
  for (const v of patch) {
    const m = v as JSONObject;
    const d = m[DIRECTIVE];
    if (d === undefined) { plain.push(m); continue; }
    if (d === 'delete') {
      const key = m[mergeKey];
      if (key === undefined) throw new PatchError('MissingMergeKey', `map: ${short(m)} does not contain declared merge key: ${mergeKey}`);
      items = items.filter((it) => !(isObject(it) && it[mergeKey] === key));
    } else if (d === 'replace') {
      replace = true;
    } else if (d === 'merge') {
      throw new PatchError('InvalidPatch', 'merging lists cannot yet be specified in the patch');
    } else {
      throw new PatchError('InvalidPatch', `unknown patch type: ${short(d)} in map: ${short(m)}`);
    }
  }
  if (replace) return orderAfterMerge(patchListAlone(plain, node.items), [], [], mergeKey);

  const merged = items === original ? original.slice() : items;
  for (const p of plain) {
    const key = requireMergeKey(p, mergeKey);
    let found = -1;
    for (let i = 0; i < merged.length; i++) {
      const it = merged[i];
      if (!isObject(it)) throw new PatchError('PatchNotApplicable', `value for key ${i} is not a map`);
      if (it[mergeKey] === key) { found = i; break; }
    }
    if (found >= 0) merged[found] = mergeMap(merged[found] as JSONObject, p, node.items);
    else merged.push(mergeMap({}, p, node.items));
  }
  return orderAfterMerge(merged, plain, items, mergeKey);
}

/** Patch items in patch order, server-only items in their old order, interleaved as upstream. */
function orderAfterMerge(merged: JSONValue[], patchOrder: JSONValue[], serverOrder: JSONValue[], mergeKey: string | undefined): JSONValue[] {
  const inPatch = indexOf(patchOrder, mergeKey);
  const patchItems: JSONValue[] = [];
  const serverOnly: JSONValue[] = [];
  for (const v of merged) {
    const k = mergeKey === undefined ? v : requireMergeKey(v, mergeKey);
    (inPatch.has(k) ? patchItems : serverOnly).push(v);
  }
  return normalizeElementOrder(patchItems, serverOnly, patchOrder, serverOrder, mergeKey);
}

function indexOf(list: JSONValue[], mergeKey: string | undefined): Map<JSONValue | undefined, number> {
  const m = new Map<JSONValue | undefined, number>();
  for (let i = 0; i < list.length; i++) {
    const k = keyOf(list[i], mergeKey);
    if (!m.has(k)) m.set(k, i);
  }
  return m;
}

function sortByOrder(toSort: JSONValue[], order: JSONValue[], mergeKey: string | undefined): JSONValue[] {
  if (mergeKey !== undefined) {
    for (const v of toSort) requireMergeKey(v, mergeKey);
    for (const v of order) requireMergeKey(v, mergeKey);
  }
  const idx = indexOf(order, mergeKey);
  const deletes: JSONValue[] = [];
  const found: JSONValue[] = [];
  const missing: JSONValue[] = [];
  for (const v of toSort) {
    if (mergeKey !== undefined && isDeleteItem(v)) deletes.push(v);
    else if (idx.has(keyOf(v, mergeKey))) found.push(v);
    else missing.push(v);
  }
  if (found.length > 1) found.sort((a, b) => idx.get(keyOf(a, mergeKey))! - idx.get(keyOf(b, mergeKey))!);
  return missing.length || deletes.length ? [...missing, ...found, ...deletes] : found;
}

function normalizeElementOrder(patchItems: JSONValue[], serverOnly: JSONValue[], patchOrder: JSONValue[], serverOrder: JSONValue[], mergeKey: string | undefined): JSONValue[] {
  const right = sortByOrder(patchItems, patchOrder, mergeKey);
  const left = sortByOrder(serverOnly, serverOrder, mergeKey);
  if (left.length === 0) return right;
  if (right.length === 0) return left;
  // Insert each server-only item before the first patch item that the live list had after it.
  const live = indexOf(serverOrder, mergeKey);
  const out: JSONValue[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length || j < right.length) {
    if (i >= left.length) { out.push(right[j++]); continue; }
    if (j >= right.length) { out.push(left[i++]); continue; }
    const li = live.get(keyOf(left[i], mergeKey));
    const ri = live.get(keyOf(right[j], mergeKey));
    if (li !== undefined && ri !== undefined && li < ri) out.push(left[i++]);
    else out.push(right[j++]);
  }
  return out;
}

function mergeWithElementOrder(original: JSONObject, patch: JSONObject, listKey: string, order: JSONValue, node: SchemaNode): void {
  if (!Array.isArray(order)) throw new PatchError('InvalidPatch', `invalid patch format of setElementOrder list: $setElementOrder/${listKey} is not a list`);
  const ov = original[listKey];
  const pv = patch[listKey];
  if (ov !== undefined && ov !== null && !Array.isArray(ov)) throw new PatchError('PatchNotApplicable', `$setElementOrder/${listKey} orders a field that is not a list`);
  if (pv !== undefined && pv !== null && !Array.isArray(pv)) throw new PatchError('InvalidPatch', `invalid patch format of setElementOrder list: ${listKey} is not a list`);
  const mergeKey = node.patchMergeKey;
  const oList = ov ?? undefined;
  const pList = pv ?? undefined;
  if (pList) validateElementOrder(pList, order, mergeKey);
  let merged: JSONValue[];
  if (oList && !pList) merged = oList;
  else if (!oList && pList) merged = patchListAlone(pList, node.items);
  else if (oList && pList) merged = mergeListField(oList, pList, node, false);
  else return;
  const kind = elementKind(oList, pList);
  if (kind === undefined) { original[listKey] = merged; return; }
  const key = kind === 'object' ? mergeKey : undefined;
  if (kind === 'object' && key === undefined) { original[listKey] = merged; return; }
  original[listKey] = orderAfterMerge(merged, order, oList ?? [], key);
}

// The items of the patch list must appear in $setElementOrder, in the same relative order.
function validateElementOrder(patchList: JSONValue[], order: JSONValue[], mergeKey: string | undefined): void {
  if (order.length === 0 || patchList.length === 0) return;
  const items = mergeKey ? patchList.filter((v) => !isDeleteItem(v)) : patchList;
  let p = 0;
  let s = 0;
  while (p < items.length && s < order.length) {
    if (isObject(items[p]) && (items[p] as JSONObject)[DIRECTIVE] !== undefined) { p++; continue; }
    const equal = mergeKey ? requireMergeKey(items[p], mergeKey) === requireMergeKey(order[s], mergeKey) : items[p] === order[s];
    if (equal) p++;
    s++;
  }
  if (p < items.length) {
    throw new PatchError('InvalidPatch', `the order in patch list ${short(patchList)} doesn't match $setElementOrder list ${short(order)}`);
  }
}
