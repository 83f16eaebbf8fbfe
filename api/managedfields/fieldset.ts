// Sets of field paths, as structured-merge-diff's fieldpath.Set, and their FieldsV1 encoding.
// A path element is kept in its serialized form, which is also its FieldsV1 key:
//   f:<name>        a field of a struct or a key of a map
//   k:{"name":"x"}  an item of a list-type map, by its key fields (sorted by name)
//   v:<json>        an item of a list-type set, by value
//   i:<n>           an item by index (never produced here; accepted when decoding)
// In FieldsV1 an element maps to `{}` when the path itself is in the set, to an object of its
// children otherwise, with `".": {}` among them when the path is in the set too.

import { isObject, type JSONObject, type JSONValue } from '../patch/json';

export class FieldSet {
  /** Elements whose path (prefix + element) is itself in the set. */
  members: Set<string> | undefined;
  /** Elements with paths below them in the set. */
  children: Map<string, FieldSet> | undefined;

  isEmpty(): boolean {
    return !this.members?.size && !this.children?.size;
  }

  addMember(pe: string): void {
    (this.members ??= new Set()).add(pe);
  }

  child(pe: string): FieldSet | undefined {
    return this.children?.get(pe);
  }

  /** The child set of `pe`, created if missing. */
  ensureChild(pe: string): FieldSet {
    let c = this.children?.get(pe);
    if (!c) { c = new FieldSet(); (this.children ??= new Map()).set(pe, c); }
    return c;
  }

  insert(path: readonly string[], from = 0): void {
    if (from >= path.length) return;
    if (from === path.length - 1) this.addMember(path[from]);
    else this.ensureChild(path[from]).insert(path, from + 1);
  }

  has(path: readonly string[]): boolean {
    if (path.length === 0) return false;
    if (path.length === 1) return !!this.members?.has(path[0]);
    let s = this.children?.get(path[0]);
    for (let i = 1; i < path.length - 1 && s; i++) s = s.children?.get(path[i]);
    return !!s && !!s.members?.has(path[path.length - 1]);
  }

  /** Every path in the set, in FieldsV1 order. */
  paths(prefix: string[] = [], out: string[][] = []): string[][] {
    for (const pe of sortedElements(this)) {
      if (this.members?.has(pe)) out.push([...prefix, pe]);
      const c = this.children?.get(pe);
      if (c) c.paths([...prefix, pe], out);
    }
    return out;
  }

  union(other: FieldSet): FieldSet {
    if (other.isEmpty()) return this;
    if (this.isEmpty()) return other;
    const out = new FieldSet();
    if (this.members || other.members) out.members = new Set([...(this.members ?? []), ...(other.members ?? [])]);
    if (this.children || other.children) {
      out.children = new Map(this.children);
      for (const [pe, c] of other.children ?? []) {
        const mine = out.children.get(pe);
        out.children.set(pe, mine ? mine.union(c) : c);
      }
    }
    return out;
  }

  /** The paths of this set not in `other`; returns `this` itself when nothing is removed. */
  difference(other: FieldSet): FieldSet {
    if (this.isEmpty() || other.isEmpty()) return this;
    let members = this.members;
    if (members && other.members) {
      for (const m of members) {
        if (other.members.has(m)) { members = new Set([...members].filter((x) => !other.members!.has(x))); break; }
      }
    }
    let children = this.children;
    if (children && other.children) {
      let copy: Map<string, FieldSet> | undefined;
      for (const [pe, c] of children) {
        const o = other.children.get(pe);
        if (!o) continue;
        const d = c.difference(o);
        if (d === c) continue;
        copy ??= new Map(children);
        if (d.isEmpty()) copy.delete(pe); else copy.set(pe, d);
      }
      if (copy) children = copy;
    }
    if (members === this.members && children === this.children) return this;
    const out = new FieldSet();
    out.members = members?.size ? members : undefined;
    out.children = children?.size ? children : undefined;
    return out;
  }

  intersection(other: FieldSet): FieldSet {
    const out = new FieldSet();
    if (this.members && other.members) for (const m of this.members) if (other.members.has(m)) out.addMember(m);
    if (this.children && other.children) {
      for (const [pe, c] of this.children) {
        const o = other.children.get(pe);
        if (!o) continue;
        const i = c.intersection(o);
        if (!i.isEmpty()) (out.children ??= new Map()).set(pe, i);
      }
    }
    return out;
  }

  equals(other: FieldSet): boolean {
    if (this === other) return true;
    if ((this.members?.size ?? 0) !== (other.members?.size ?? 0) || (this.children?.size ?? 0) !== (other.children?.size ?? 0)) return false;
    for (const m of this.members ?? []) if (!other.members!.has(m)) return false;
    for (const [pe, c] of this.children ?? []) {
      const o = other.children!.get(pe);
      if (!o || !c.equals(o)) return false;
    }
    return true;
  }

  /** The set without the given paths and everything below them; `this` when none is present. */
  withoutPrefixes(prefixes: readonly (readonly string[])[]): FieldSet {
    return prefixes.reduce<FieldSet>((set, p) => set.withoutPrefix(p, 0), this);
  }

  private withoutPrefix(p: readonly string[], i: number): FieldSet {
    const pe = p[i];
    if (pe === undefined) return this;
    const last = i === p.length - 1;
    const c = this.children?.get(pe);
    const reduced = c && !last ? c.withoutPrefix(p, i + 1) : c;
    const dropMember = last && !!this.members?.has(pe);
    const dropChild = c !== undefined && (last || reduced!.isEmpty());
    if (!dropMember && !dropChild && reduced === c) return this;
    const out = new FieldSet();
    out.members = this.members && new Set(this.members);
    out.children = this.children && new Map(this.children);
    if (dropMember) out.members!.delete(pe);
    if (dropChild) out.children!.delete(pe); else if (reduced !== c) out.children!.set(pe, reduced!);
    if (!out.members?.size) out.members = undefined;
    if (!out.children?.size) out.children = undefined;
    return out;
  }
}

// ----- ordering (structured-merge-diff's PathElement.Compare) -----

const rank: Record<string, number> = { f: 0, k: 1, v: 2, i: 3 };

function valueRank(v: JSONValue): number {
  if (typeof v === 'number') return 0;
  if (typeof v === 'string') return 1;
  if (typeof v === 'boolean') return 2;
  if (Array.isArray(v)) return 3;
  if (v !== null) return 4;
  return 5;
}

export function compareValues(a: JSONValue, b: JSONValue): number {
  const ra = valueRank(a);
  const rb = valueRank(b);
  if (ra !== rb) return ra - rb;
  if (typeof a === 'number') return a < (b as number) ? -1 : a > (b as number) ? 1 : 0;
  if (typeof a === 'string') return a < (b as string) ? -1 : a > (b as string) ? 1 : 0;
  if (typeof a === 'boolean') return a === b ? 0 : a ? 1 : -1;
  if (Array.isArray(a)) {
    const bl = b as JSONValue[];
    for (let i = 0; i < a.length && i < bl.length; i++) { const c = compareValues(a[i], bl[i]); if (c) return c; }
    return a.length - bl.length;
  }
  if (a === null) return 0;
  return compareFieldLists(a as JSONObject, b as JSONObject);
}

function compareFieldLists(a: JSONObject, b: JSONObject): number {
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  for (let i = 0; ; i++) {
    if (i >= ka.length || i >= kb.length) return ka.length - kb.length;
    if (ka[i] !== kb[i]) return ka[i] < kb[i] ? -1 : 1;
    const c = compareValues(a[ka[i]], b[kb[i]]);
    if (c) return c;
  }
}

const parsed = new Map<string, JSONValue>();
function elementValue(pe: string): JSONValue {
  let v = parsed.get(pe);
  if (v === undefined) {
    v = JSON.parse(pe.slice(2)) as JSONValue;
    if (parsed.size > 10000) parsed.clear();
    parsed.set(pe, v);
  }
  return v;
}

export function compareElements(a: string, b: string): number {
  const ta = a[0];
  const tb = b[0];
  if (ta !== tb) return (rank[ta] ?? 9) - (rank[tb] ?? 9);
  if (ta === 'f') return a < b ? -1 : a > b ? 1 : 0; // same "f:" prefix: compare whole strings
  if (ta === 'i') return Number(a.slice(2)) - Number(b.slice(2));
  if (ta === 'k') return compareFieldLists(elementValue(a) as JSONObject, elementValue(b) as JSONObject);
  return compareValues(elementValue(a), elementValue(b));
}

function sortedElements(s: FieldSet): string[] {
  let all: string[];
  if (!s.children?.size) all = s.members ? [...s.members] : [];
  else if (!s.members?.size) all = [...s.children.keys()];
  else {
    all = [...s.children.keys()];
    for (const m of s.members) if (!s.children.has(m)) all.push(m);
  }
  return all.length > 1 ? all.sort(compareElements) : all;
}

// ----- path elements -----

export function fieldElement(name: string): string {
  return `f:${name}`;
}

/** `k:{...}` with the key fields sorted by name, as structured-merge-diff serializes them. */
export function keyElement(fields: Array<[string, JSONValue]>): string {
  if (fields.length === 1) return `k:{${JSON.stringify(fields[0][0])}:${JSON.stringify(fields[0][1])}}`;
  fields.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  let s = 'k:{';
  for (let i = 0; i < fields.length; i++) s += `${i ? ',' : ''}${JSON.stringify(fields[i][0])}:${JSON.stringify(fields[i][1])}`;
  return `${s}}`;
}

export function valueElement(v: JSONValue): string {
  return `v:${JSON.stringify(v)}`;
}

/** A path as conflicts print it: `.spec.replicas`, `.spec.containers[name="nginx"].image`, `[=x]`. */
export function pathString(path: readonly string[]): string {
  let s = '';
  for (const pe of path) {
    const t = pe[0];
    if (t === 'f') s += `.${pe.slice(2)}`;
    else if (t === 'i') s += `[${pe.slice(2)}]`;
    else if (t === 'v') s += `[=${valueString(elementValue(pe))}]`;
    else if (t === 'k') {
      const o = elementValue(pe) as JSONObject;
      s += `[${Object.keys(o).sort().map((k) => `${k}=${valueString(o[k])}`).join(',')}]`;
    }
  }
  return s;
}

function valueString(v: JSONValue): string {
  return typeof v === 'string' ? JSON.stringify(v) : typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v);
}

// ----- FieldsV1 -----

export class FieldsV1Error extends Error {
  override readonly name = 'FieldsV1Error';
  readonly code = 'InvalidFieldsV1';
}

const decodedCache = new WeakMap<object, FieldSet>();

/** Decodes a FieldsV1 object. Decoded sets are cached per object: treat the result as read-only. */
export function decodeFieldsV1(fields: unknown): FieldSet {
  if (!isObject(fields)) throw new FieldsV1Error('fieldsV1 must be a JSON object');
  let s = decodedCache.get(fields);
  if (!s) { s = decodeInto(fields); decodedCache.set(fields, s); }
  return s;
}

function decodeInto(obj: JSONObject): FieldSet {
  const s = new FieldSet();
  for (const key in obj) {
    if (key === '.') continue;
    const t = key[0];
    if (key[1] !== ':' || !(t in rank)) throw new FieldsV1Error(`invalid path element ${JSON.stringify(key)} in fieldsV1`);
    if (t === 'k' || t === 'v') {
      try { elementValue(key); } catch { throw new FieldsV1Error(`invalid path element ${JSON.stringify(key)} in fieldsV1`); }
    }
    const v = obj[key];
    if (!isObject(v)) throw new FieldsV1Error(`fieldsV1 entry ${JSON.stringify(key)} must be an object`);
    let empty = true;
    for (const _ in v) { empty = false; break; }
    if (empty) { s.addMember(key); continue; }
    if ('.' in v) s.addMember(key);
    const c = decodeInto(v);
    if (!c.isEmpty()) (s.children ??= new Map()).set(key, c);
  }
  return s;
}

/** Encodes a set as FieldsV1, elements in structured-merge-diff's order. */
export function encodeFieldsV1(s: FieldSet): JSONObject {
  const out: JSONObject = {};
  for (const pe of sortedElements(s)) {
    const c = s.children?.get(pe);
    if (!c) { out[pe] = {}; continue; }
    const o: JSONObject = s.members?.has(pe) ? { '.': {} } : {};
    out[pe] = Object.assign(o, encodeFieldsV1(c));
  }
  return out;
}
