// The one view of a kind's schema that strategic merge patch and server-side apply need: for a
// position in an object, is it a struct, a map, a list or a scalar, and how do its lists merge.
// Built from OpenAPI v3 schema objects (built-in kinds via api/schema, custom resources from the
// CRD's openAPIV3Schema). Nodes are compiled lazily and cached, so a lookup on the write path is a
// Map hit, not a walk over the definitions.

import type { JSONValue } from './json';

/** The parts of an OpenAPI v3 schema object this module reads. */
export interface OpenAPISchema {
  type?: string | string[];
  properties?: Record<string, OpenAPISchema>;
  items?: OpenAPISchema;
  additionalProperties?: OpenAPISchema | boolean;
  $ref?: string;
  allOf?: OpenAPISchema[];
  default?: unknown;
  'x-kubernetes-patch-strategy'?: string;
  'x-kubernetes-patch-merge-key'?: string;
  'x-kubernetes-list-type'?: string;
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: string;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-embedded-resource'?: boolean;
  [extension: string]: unknown;
}

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
  return Array.isArray(s.type) ? s.type.find((t) => t !== 'null') : s.type;
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

  constructor(prop: OpenAPISchema, private readonly resolve: SchemaResolver) {
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
    return prop && prop.default !== undefined ? (prop.default as JSONValue) : undefined;
  }
}

const resolverCache = new WeakMap<SchemaResolver, WeakMap<OpenAPISchema, SchemaNode>>();
const identityResolver: SchemaResolver = () => undefined;

/**
 * The node for an OpenAPI schema object. `resolve` follows `$ref`s (api/schema's resolveSchema for
 * built-in kinds); a self-contained schema such as a CRD's openAPIV3Schema needs none.
 * Compiled nodes are cached per (schema, resolver), so pass stable objects.
 */
export function schemaNode(schema: OpenAPISchema, resolve: SchemaResolver = identityResolver): SchemaNode {
  let bySchema = resolverCache.get(resolve);
  if (!bySchema) { bySchema = new WeakMap(); resolverCache.set(resolve, bySchema); }
  let n = bySchema.get(schema);
  if (!n) { n = new OpenAPINode(schema, resolve); bySchema.set(schema, n); }
  return n;
}

export function isSchemaNode(v: unknown): v is SchemaNode {
  return v instanceof OpenAPINode || v instanceof UnknownNode || v instanceof TableNode;
}

// ---------------------------------------------------------------------------------------------
// Stand-in until api/schema serves the built-in definitions: the merge keys, strategies and list
// types of k8s.io/api v0.32 that matter for patches (kube-api-compat.md §5), by field name.

interface TableEntry { strategy?: string; key?: string; listType?: ListType; mapKeys?: string[]; keyDefaults?: Record<string, JSONValue> }

const containerLists = new Set(['containers', 'initContainers', 'ephemeralContainers']);
const byName: Record<string, TableEntry> = {
  env: { strategy: 'merge', key: 'name' },
  volumeMounts: { strategy: 'merge', key: 'mountPath' },
  volumeDevices: { strategy: 'merge', key: 'devicePath' },
  volumes: { strategy: 'merge,retainKeys', key: 'name' },
  imagePullSecrets: { strategy: 'merge', key: 'name' },
  hostAliases: { strategy: 'merge', key: 'ip' },
  topologySpreadConstraints: { strategy: 'merge', key: 'topologyKey', listType: 'map', mapKeys: ['topologyKey', 'whenUnsatisfiable'] },
  conditions: { strategy: 'merge', key: 'type' },
  podIPs: { strategy: 'merge', key: 'ip' },
  hostIPs: { strategy: 'merge', key: 'ip' },
  ownerReferences: { strategy: 'merge', key: 'uid' },
  finalizers: { strategy: 'merge', listType: 'set' },
  tolerations: { listType: 'atomic' },
  taints: { listType: 'atomic' },
  subsets: { listType: 'atomic' },
};
/** Fields that are string maps (additionalProperties), not structs. */
const mapFields = new Set(['labels', 'annotations', 'nodeSelector', 'data', 'binaryData', 'stringData', 'limits', 'requests',
  'matchLabels', 'capacity', 'allocatable', 'overhead']);
/** Structs marked x-kubernetes-map-type: atomic. */
const atomicStructs = new Set(['selector', 'nodeAffinity', 'fieldRef', 'resourceFieldRef', 'configMapKeyRef', 'secretKeyRef', 'labelSelector', 'namespaceSelector']);

class TableNode implements SchemaNode {
  readonly patchStrategies: readonly string[];
  readonly patchMergeKey: string | undefined;
  readonly listType: ListType;
  readonly listMapKeys: readonly string[];
  readonly atomicMap: boolean;
  private readonly children = new Map<string, SchemaNode>();
  private itemsNode: SchemaNode | undefined;
  private readonly entry: TableEntry | undefined;

  constructor(readonly kind: NodeKind, private readonly name: string, private readonly parent: TableNode | undefined, private readonly gvk: GroupVersionKindLike) {
    let entry = byName[name];
    if (containerLists.has(name)) entry = { strategy: 'merge', key: 'name' };
    if (name === 'ports') {
      entry = parent?.name === 'spec' && gvk.kind === 'Service'
        ? { strategy: 'merge', key: 'port', listType: 'map', mapKeys: ['port', 'protocol'], keyDefaults: { protocol: 'TCP' } }
        : { strategy: 'merge', key: 'containerPort', listType: 'map', mapKeys: ['containerPort', 'protocol'], keyDefaults: { protocol: 'TCP' } };
    }
    if (name === 'addresses' && gvk.kind === 'Node') entry = { strategy: 'merge', key: 'type' };
    if (name === 'strategy' && gvk.kind === 'Deployment') entry = { strategy: 'retainKeys' };
    this.entry = entry;
    this.patchStrategies = entry?.strategy ? entry.strategy.split(',') : [];
    this.patchMergeKey = entry?.key;
    this.listType = deduceListType(entry?.listType, this.patchStrategies, this.patchMergeKey);
    this.listMapKeys = entry?.mapKeys ?? (this.listType === 'map' && this.patchMergeKey ? [this.patchMergeKey] : []);
    this.atomicMap = atomicStructs.has(name) && !(name === 'selector' && gvk.kind === 'Service' && parent?.name === 'spec');
  }

  private make(name: string, isItem: boolean): SchemaNode {
    const isMap = mapFields.has(name) || (name === 'selector' && this.gvk.kind === 'Service' && this.name === 'spec');
    if (!isItem && this.kind === 'map') return UNKNOWN; // values of string maps
    const listish = !isItem && (byName[name] !== undefined || containerLists.has(name) || name === 'ports' || name === 'addresses' || name === 'args' || name === 'command');
    const kind: NodeKind = listish ? 'list' : isMap ? 'map' : 'struct';
    return new TableNode(kind, isItem ? `${this.name}[]` : name, this, this.gvk);
  }

  field(name: string): SchemaNode {
    if (this.kind === 'list' || this.kind === 'scalar') return UNKNOWN;
    let n = this.children.get(name);
    if (!n) { n = this.make(name, false); this.children.set(name, n); }
    return n;
  }
  hasField(): boolean { return this.kind === 'struct'; }
  get items(): SchemaNode {
    if (!this.itemsNode) {
      const scalarItems = this.listType === 'set' || this.name === 'args' || this.name === 'command';
      this.itemsNode = scalarItems ? UNKNOWN : this.make(this.name, true);
    }
    return this.itemsNode;
  }
  keyDefault(name: string): JSONValue | undefined { return this.entry?.keyDefaults?.[name]; }
}

const tableRoots = new Map<string, SchemaNode>();

/**
 * Stand-in for built-in kinds until api/schema provides their definitions: merge keys and list
 * types by field name (kube-api-compat.md §5). Every field is taken to be a struct unless it is a
 * known string map.
 */
export function builtinTableSchema(gvk: GroupVersionKindLike): SchemaNode {
  const id = `${gvk.group}/${gvk.version}/${gvk.kind}`;
  let n = tableRoots.get(id);
  if (!n) { n = new TableNode('struct', '', undefined, gvk); tableRoots.set(id, n); }
  return n;
}

/** Where patch and apply take their schema from: a kind, an OpenAPI schema, or a compiled node. */
export type SchemaSource = GroupVersionKindLike | { schema: OpenAPISchema; resolve?: SchemaResolver } | SchemaNode;

export function nodeFor(source: SchemaSource): SchemaNode {
  if (isSchemaNode(source)) return source;
  if ('schema' in source && typeof source.schema === 'object') return schemaNode(source.schema, source.resolve);
  return builtinTableSchema(source as GroupVersionKindLike);
}
