// The one view of a kind's schema that strategic merge patch and server-side apply need: for a
// position in an object, is it a struct, a map, a list or a scalar, and how do its lists merge.
// Built from OpenAPI v3 schema objects (built-in kinds via api/schema, custom resources from the
// CRD's openAPIV3Schema). Nodes are compiled lazily and cached, so a lookup on the write path is a
// Map hit, not a walk over the definitions.

import { definitionOfRef, schemaForKind, type SchemaObject } from '../schema';
import type { JSONValue } from './json';

/** An OpenAPI v3 schema object (api/schema's SchemaObject; a CRD's openAPIV3Schema has the same shape). */
export type OpenAPISchema = SchemaObject;

/** Follows a `$ref` to its definition; undefined if the reference is unknown. */
export type SchemaResolver = (schema: OpenAPISchema) => OpenAPISchema | undefined;

export interface GroupVersionKindLike { group: string; version: string; kind: string }

export type NodeKind = 'struct' | 'map' | 'list' | 'scalar' | 'unknown';
export type ListType = 'atomic' | 'set' | 'map';

/**
 * A position in a kind's schema. `field`/`items` never fail: positions the schema does not describe
 * are `unknown`, which merges like upstream's unstructured data (maps merge, lists are replaced).
 */
export interface SchemaNode {
  readonly kind: NodeKind;
  /** The node of a struct's field or of a map's values; `unknown` when not described. */
  field(name: string): SchemaNode;
  /** True when `name` is a declared field of this struct (server-side apply's "named field"). */
  hasField(name: string): boolean;
  /** The node of a list's items. */
  readonly items: SchemaNode;
  /** x-kubernetes-patch-strategy split on commas: 'merge', 'replace', 'retainKeys'. */
  readonly patchStrategies: readonly string[];
  readonly patchMergeKey: string | undefined;
  /** Server-side apply's list type: explicit x-kubernetes-list-type, else deduced as upstream does
   *  (patch strategy merge with a key -> map, merge without a key -> set, otherwise atomic). */
  readonly listType: ListType;
  readonly listMapKeys: readonly string[];
  /** x-kubernetes-map-type: atomic (a struct or map owned and replaced as a whole). */
  readonly atomicMap: boolean;
  /** The default of a list-map key field of this list's items (e.g. protocol TCP of container ports). */
  keyDefault(name: string): JSONValue | undefined;
}

class UnknownNode implements SchemaNode {
  readonly kind = 'unknown' as const;
  readonly patchStrategies: readonly string[] = [];
  readonly patchMergeKey = undefined;
  readonly listType = 'atomic' as const;
  readonly listMapKeys: readonly string[] = [];
  readonly atomicMap = false;
  get items(): SchemaNode { return this; }
  field(): SchemaNode { return this; }
  hasField(): boolean { return false; }
  keyDefault(): undefined { return undefined; }
}

/** The node for anything the schema does not describe. */
export const UNKNOWN: SchemaNode = new UnknownNode();

function deduceListType(explicit: string | undefined, strategies: readonly string[], mergeKey: string | undefined): ListType {
  if (explicit === 'atomic' || explicit === 'set' || explicit === 'map') return explicit;
  if (strategies.includes('merge')) return mergeKey ? 'map' : 'set';
  return 'atomic';
}

function typeOf(s: OpenAPISchema): string | undefined {
  return s.type;
}

class OpenAPINode implements SchemaNode {
  readonly kind: NodeKind;
  readonly patchStrategies: readonly string[];
  readonly patchMergeKey: string | undefined;
  readonly listType: ListType;
  readonly listMapKeys: readonly string[];
  readonly atomicMap: boolean;
  private readonly target: OpenAPISchema;
  private readonly fields = new Map<string, SchemaNode>();
  private itemsNode: SchemaNode | undefined;

  constructor(prop: OpenAPISchema, private readonly resolve: SchemaResolver, private readonly isRoot = false) {
    // Extensions may sit on the property (list type, patch strategy) or on the definition it
    // references (map type of LabelSelector); the property's own win.
    let target = prop;
    const ext: Record<string, unknown> = {};
    for (let depth = 0; depth < 32; depth++) {
      for (const k in target) if (k.startsWith('x-kubernetes-') && !(k in ext)) ext[k] = target[k];
      let next: OpenAPISchema | undefined;
      if (target.$ref !== undefined) next = resolve(target);
      else if (target.allOf && target.allOf.length === 1 && !target.properties && !target.type) next = target.allOf[0];
      if (!next) break;
      target = next;
    }
    this.target = target;
    const strategy = ext['x-kubernetes-patch-strategy'];
    this.patchStrategies = typeof strategy === 'string' && strategy ? strategy.split(',').map((s) => s.trim()) : [];
    const key = ext['x-kubernetes-patch-merge-key'];
    this.patchMergeKey = typeof key === 'string' && key ? key : undefined;
    const listType = ext['x-kubernetes-list-type'];
    this.listType = deduceListType(typeof listType === 'string' ? listType : undefined, this.patchStrategies, this.patchMergeKey);
    const mapKeys = ext['x-kubernetes-list-map-keys'];
    this.listMapKeys = Array.isArray(mapKeys) ? mapKeys.filter((k): k is string => typeof k === 'string')
      : this.listType === 'map' && this.patchMergeKey ? [this.patchMergeKey] : [];
    this.atomicMap = ext['x-kubernetes-map-type'] === 'atomic';
    const t = typeOf(target);
    if (ext['x-kubernetes-int-or-string']) this.kind = 'scalar';
    else if (t === 'array' || target.items) this.kind = 'list';
    else if (target.properties) this.kind = 'struct';
    else if (typeof target.additionalProperties === 'object') this.kind = 'map';
    else if (t === 'string' || t === 'integer' || t === 'number' || t === 'boolean') this.kind = 'scalar';
    else if (t === 'object') this.kind = 'map';
    else this.kind = 'unknown';
  }

  field(name: string): SchemaNode {
    let n = this.fields.get(name);
    if (n) return n;
    const t = this.target;
    const prop = t.properties?.[name];
    if (prop) n = new OpenAPINode(prop, this.resolve);
    else if (typeof t.additionalProperties === 'object') n = new OpenAPINode(t.additionalProperties, this.resolve);
    else n = UNKNOWN;
    // A CRD's schema says little or nothing of metadata; it is an ObjectMeta all the same.
    if (this.isRoot && name === 'metadata' && n.kind !== 'struct') n = new OpenAPINode(objectMetaRef, definitionResolver);
    this.fields.set(name, n);
    return n;
  }

  hasField(name: string): boolean {
    return this.target.properties !== undefined && Object.prototype.hasOwnProperty.call(this.target.properties, name);
  }

  get items(): SchemaNode {
    if (!this.itemsNode) this.itemsNode = this.target.items ? new OpenAPINode(this.target.items, this.resolve) : UNKNOWN;
    return this.itemsNode;
  }

  keyDefault(name: string): JSONValue | undefined {
    const items = this.items;
    if (!(items instanceof OpenAPINode)) return undefined;
    const prop = items.target.properties?.[name];
    if (prop && prop.default !== undefined) return prop.default as JSONValue;
    // Every built-in list keyed by protocol (container, service and endpoint ports) defaults it to
    // TCP (+default="TCP" upstream), so the item's key carries it even when a client omits it.
    if (name === 'protocol' && prop) return 'TCP';
    return undefined;
  }
}

const definitionResolver: SchemaResolver = (s) => (s.$ref !== undefined ? definitionOfRef(s.$ref) : undefined);
const objectMetaRef: OpenAPISchema = { $ref: '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta' };

const resolverCache = new WeakMap<SchemaResolver, WeakMap<OpenAPISchema, SchemaNode>>();
const identityResolver: SchemaResolver = () => undefined;

/**
 * The node for the schema of a whole object (a kind's definition, a CRD's openAPIV3Schema; its
 * `metadata` is ObjectMeta whatever the schema says of it). `resolve` follows `$ref`s (api/schema's resolveSchema for
 * built-in kinds); a self-contained schema such as a CRD's openAPIV3Schema needs none.
 * Compiled nodes are cached per (schema, resolver), so pass stable objects.
 */
export function schemaNode(schema: OpenAPISchema, resolve: SchemaResolver = identityResolver): SchemaNode {
  let bySchema = resolverCache.get(resolve);
  if (!bySchema) { bySchema = new WeakMap(); resolverCache.set(resolve, bySchema); }
  let n = bySchema.get(schema);
  if (!n) { n = new OpenAPINode(schema, resolve, true); bySchema.set(schema, n); }
  return n;
}

export function isSchemaNode(v: unknown): v is SchemaNode {
  return v instanceof OpenAPINode || v instanceof UnknownNode;
}

const kindRoots = new Map<string, SchemaNode>();

/** The node of a built-in kind from api/schema's definitions; `unknown` for kinds it does not define. */
export function builtinKindSchema(gvk: GroupVersionKindLike): SchemaNode {
  const id = `${gvk.group}/${gvk.version}/${gvk.kind}`;
  let n = kindRoots.get(id);
  if (!n) {
    const def = schemaForKind(gvk);
    n = def ? schemaNode(def, definitionResolver) : UNKNOWN;
    kindRoots.set(id, n);
  }
  return n;
}

/** Where patch and apply take their schema from: a kind, an OpenAPI schema, or a compiled node. */
export type SchemaSource = GroupVersionKindLike | { schema: OpenAPISchema; resolve?: SchemaResolver } | SchemaNode;

export function nodeFor(source: SchemaSource): SchemaNode {
  if (isSchemaNode(source)) return source;
  if ('schema' in source && typeof source.schema === 'object') return schemaNode(source.schema, source.resolve);
  return builtinKindSchema(source as GroupVersionKindLike);
}
