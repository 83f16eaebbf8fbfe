// OpenAPI v3 documents, one per group-version, built from api/schema's definitions. kubectl reads
// them for `explain` (components.schemas with x-kubernetes-group-version-kind), for server-side
// field validation (a PATCH operation with the kind's GVK and a `fieldValidation` query parameter,
// kube-api-compat.md §2) and for schema-driven strategic merge patches (patch metadata on the
// properties, `application/strategic-merge-patch+json` among the PATCH request content types).
import { type GroupVersionKind, type ResourceInfo, subresourceKind } from './scheme';
import { getDefinitions, REF_PREFIX, type SchemaObject } from './schema';

/** A custom resource to document: its scheme entry and the openAPIV3Schema of its CRD version. */
export interface CustomResourceSchema {
  resource: ResourceInfo;
  /** The version's `schema.openAPIV3Schema`; undefined documents the kind as free-form. */
  schema?: SchemaObject;
}
export type CustomResourceSchemas = CustomResourceSchema[];

const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';
const PATCH_DEF = `${META}.Patch`;

/** The definition name upstream gives a custom kind: the group reversed, then version and kind. */
export function customResourceDefinitionName(r: { group: string; version: string; kind: string }): string {
  return `${r.group.split('.').reverse().join('.')}.${r.version}.${r.kind}`;
}

/** The document key of a group-version: 'api/v1' or 'apis/apps/v1'. */
export function openAPIPathOf(gv: { group: string; version: string }): string {
  return gv.group === '' ? `api/${gv.version}` : `apis/${gv.group}/${gv.version}`;
}

// ---- parameters (inline, as kubectl's query-parameter verifier reads them) ----

type Param = Record<string, unknown>;
const q = (name: string, type: string, description: string): Param => ({ name, in: 'query', description, schema: { type, uniqueItems: true } });
const P = {
  name: { name: 'name', in: 'path', required: true, description: 'name of the object', schema: { type: 'string', uniqueItems: true } },
  namespace: { name: 'namespace', in: 'path', required: true, description: 'object name and auth scope, such as for teams and projects', schema: { type: 'string', uniqueItems: true } },
  pretty: q('pretty', 'string', "If 'true', the output is pretty printed."),
  dryRun: q('dryRun', 'string', 'When present (All), the request is processed fully but nothing is persisted.'),
  fieldManager: q('fieldManager', 'string', 'The name of the actor making the change, recorded in managedFields.'),
  fieldValidation: q('fieldValidation', 'string', 'How the server treats unknown and duplicate fields in the request body: Ignore, Warn or Strict.'),
  force: q('force', 'boolean', 'Server-side apply only: take ownership of fields other managers own instead of reporting conflicts.'),
  allowWatchBookmarks: q('allowWatchBookmarks', 'boolean', 'Ask for BOOKMARK events in a watch.'),
  continue: q('continue', 'string', 'The continue token of the previous page of a paginated list.'),
  fieldSelector: q('fieldSelector', 'string', 'Restrict the list by fields (metadata.name=x, spec.nodeName=y, ...).'),
  labelSelector: q('labelSelector', 'string', 'Restrict the list by labels (app=web, tier in (a,b), !legacy, ...).'),
  limit: q('limit', 'integer', 'The largest number of items to return; the rest is reached through continue.'),
  resourceVersion: q('resourceVersion', 'string', 'Which version of the collection to read or to watch from.'),
  resourceVersionMatch: q('resourceVersionMatch', 'string', 'How resourceVersion applies to a list: NotOlderThan or Exact.'),
  sendInitialEvents: q('sendInitialEvents', 'boolean', 'Start a watch with synthetic events for the current state.'),
  timeoutSeconds: q('timeoutSeconds', 'integer', 'End the list or watch call after this many seconds.'),
  watch: q('watch', 'boolean', 'Stream changes (ADDED, MODIFIED, DELETED) instead of returning a list.'),
  gracePeriodSeconds: q('gracePeriodSeconds', 'integer', 'Seconds to wait before the object is deleted; 0 deletes at once.'),
  orphanDependents: q('orphanDependents', 'boolean', 'Deprecated: use propagationPolicy.'),
  propagationPolicy: q('propagationPolicy', 'string', 'What happens to dependents: Orphan, Background or Foreground.'),
};
const LIST_PARAMS = [P.allowWatchBookmarks, P.continue, P.fieldSelector, P.labelSelector, P.limit, P.resourceVersion, P.resourceVersionMatch, P.sendInitialEvents, P.timeoutSeconds, P.watch];
const WRITE_PARAMS = [P.dryRun, P.fieldManager, P.fieldValidation];
const DELETE_PARAMS = [P.dryRun, P.gracePeriodSeconds, P.orphanDependents, P.propagationPolicy];

const PATCH_TYPES_BUILTIN = ['application/apply-patch+yaml', 'application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json'];
// Custom resources have no Go struct tags, so strategic merge patch is not offered for them.
const PATCH_TYPES_CUSTOM = ['application/apply-patch+yaml', 'application/json-patch+json', 'application/merge-patch+json'];

const ref = (def: string) => ({ $ref: `${REF_PREFIX}${def}` });
const body = (def: string, types = ['*/*']) => ({ required: true, content: Object.fromEntries(types.map((t) => [t, { schema: ref(def) }])) });
const answer = (def: string | undefined, codes: string[]) => Object.fromEntries([
  ...codes.map((c) => [c, {
    description: c === '201' ? 'Created' : c === '202' ? 'Accepted' : 'OK',
    content: def
      ? Object.fromEntries(['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf'].map((t) => [t, { schema: ref(def) }]))
      : { 'text/plain': { schema: { type: 'string' } } },
  }]),
  ['401', { description: 'Unauthorized' }],
]);

interface OpSpec {
  action: 'get' | 'list' | 'post' | 'put' | 'patch' | 'delete' | 'deletecollection' | 'connect';
  operationId: string; description: string; gvk?: GroupVersionKind;
  parameters?: Param[]; requestBody?: unknown; responses: unknown;
}
function op(s: OpSpec): Record<string, unknown> {
  return {
    description: s.description,
    operationId: s.operationId,
    ...(s.parameters && s.parameters.length > 0 ? { parameters: s.parameters } : {}),
    ...(s.requestBody ? { requestBody: s.requestBody } : {}),
    responses: s.responses,
    'x-kubernetes-action': s.action,
    ...(s.gvk ? { 'x-kubernetes-group-version-kind': { group: s.gvk.group, version: s.gvk.version, kind: s.gvk.kind } } : {}),
  };
}

const upper = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
function opIdPart(r: ResourceInfo): string {
  const g = r.group === '' ? 'Core' : r.group.replace(/\.k8s\.io$/, '').split(/[.-]/).map(upper).join('');
  return `${g}${upper(r.version)}`;
}

/** Definition name of a subresource kind (autoscaling/v1 Scale, core/v1 Binding, ...). */
function subresourceDefinition(r: ResourceInfo, gvk: GroupVersionKind, defs: Record<string, SchemaObject>): string | undefined {
  return Object.keys(defs).find((name) => defs[name]['x-kubernetes-group-version-kind']?.some(
    (g) => g.group === gvk.group && g.version === gvk.version && g.kind === gvk.kind)) ?? (gvk.kind === r.kind ? r.definition : undefined);
}

/**
 * The OpenAPI v3 path items of one resource (collection, item, all-namespaces list, subresources),
 * each operation with its x-kubernetes-action and GVK. The v2 document (api/openapi-v2) converts
 * these same path items, so both versions list one operation set.
 */
export function pathsFor(r: ResourceInfo, custom: boolean, defs: Record<string, SchemaObject>): Record<string, Record<string, unknown>> {
  const base = r.group === '' ? `/api/${r.version}` : `/apis/${r.group}/${r.version}`;
  const nsPart = r.namespaced ? '/namespaces/{namespace}' : '';
  const scope = r.namespaced ? 'Namespaced' : '';
  const id = `${opIdPart(r)}${scope}${r.kind}`;
  const gvk: GroupVersionKind = { group: r.group, version: r.version, kind: r.kind };
  const listDef = `${r.definition}List`;
  const has = (v: string) => r.verbs.includes(v);
  const scopeParams = r.namespaced ? [P.namespace, P.pretty] : [P.pretty];
  const patchTypes = custom ? PATCH_TYPES_CUSTOM : PATCH_TYPES_BUILTIN;
  const paths: Record<string, Record<string, unknown>> = {};

  const collection: Record<string, unknown> = { parameters: scopeParams };
  if (has('list')) collection.get = op({ action: 'list', operationId: `list${id}`, description: `list or watch objects of kind ${r.kind}`, gvk, parameters: LIST_PARAMS, responses: answer(listDef, ['200']) });
  if (has('create')) collection.post = op({ action: 'post', operationId: `create${id}`, description: `create a ${r.kind}`, gvk, parameters: WRITE_PARAMS, requestBody: body(r.definition), responses: answer(r.definition, ['200', '201', '202']) });
  if (has('deletecollection')) collection.delete = op({ action: 'deletecollection', operationId: `deletecollection${id}`, description: `delete a collection of ${r.kind}`, gvk, parameters: [...LIST_PARAMS.filter((p) => p !== P.watch && p !== P.allowWatchBookmarks), ...DELETE_PARAMS], requestBody: { content: { '*/*': { schema: ref(`${META}.DeleteOptions`) } } }, responses: answer(`${META}.Status`, ['200']) });
  if (Object.keys(collection).length > 1) paths[`${base}${nsPart}/${r.plural}`] = collection;

  if (r.namespaced && has('list')) {
    paths[`${base}/${r.plural}`] = {
      parameters: [P.pretty],
      get: op({ action: 'list', operationId: `list${opIdPart(r)}${r.kind}ForAllNamespaces`, description: `list or watch objects of kind ${r.kind} in every namespace`, gvk, parameters: LIST_PARAMS, responses: answer(listDef, ['200']) }),
    };
  }

  const item: Record<string, unknown> = { parameters: [P.name, ...scopeParams] };
  if (has('get')) item.get = op({ action: 'get', operationId: `read${id}`, description: `read the specified ${r.kind}`, gvk, responses: answer(r.definition, ['200']) });
  if (has('update')) item.put = op({ action: 'put', operationId: `replace${id}`, description: `replace the specified ${r.kind}`, gvk, parameters: WRITE_PARAMS, requestBody: body(r.definition), responses: answer(r.definition, ['200', '201']) });
  if (has('patch')) item.patch = op({ action: 'patch', operationId: `patch${id}`, description: `partially update the specified ${r.kind}`, gvk, parameters: [...WRITE_PARAMS, P.force], requestBody: body(PATCH_DEF, patchTypes), responses: answer(r.definition, ['200', '201']) });
  if (has('delete')) item.delete = op({ action: 'delete', operationId: `delete${id}`, description: `delete a ${r.kind}`, gvk, parameters: DELETE_PARAMS, requestBody: { content: { '*/*': { schema: ref(`${META}.DeleteOptions`) } } }, responses: answer(`${META}.Status`, ['200', '202']) });
  if (Object.keys(item).length > 1) paths[`${base}${nsPart}/${r.plural}/{name}`] = item;

  for (const s of r.subresources) {
    const sgvk = subresourceKind(r, s.name)!;
    const sdef = subresourceDefinition(r, sgvk, defs);
    const sid = `${id}${upper(s.name)}`;
    const sp: Record<string, unknown> = { parameters: [P.name, ...scopeParams] };
    const connect = ['exec', 'attach', 'portforward', 'proxy'].includes(s.name);
    if (connect) {
      for (const method of ['get', 'post']) sp[method] = op({ action: 'connect', operationId: `connect${upper(method)}${sid}`, description: `connect ${method.toUpperCase()} requests to ${s.name} of ${r.kind}`, gvk: sgvk, responses: answer(undefined, ['200']) });
    } else if (s.name === 'log') {
      sp.get = op({ action: 'get', operationId: `read${sid}`, description: `read the log of the specified ${r.kind}`, gvk: sgvk, responses: answer(undefined, ['200']) });
    } else {
      if (s.verbs.includes('get') && sdef) sp.get = op({ action: 'get', operationId: `read${sid}`, description: `read ${s.name} of the specified ${r.kind}`, gvk: sgvk, responses: answer(sdef, ['200']) });
      if (s.verbs.includes('update') && sdef) sp.put = op({ action: 'put', operationId: `replace${sid}`, description: `replace ${s.name} of the specified ${r.kind}`, gvk: sgvk, parameters: WRITE_PARAMS, requestBody: body(sdef), responses: answer(sdef, ['200', '201']) });
      if (s.verbs.includes('patch') && sdef) sp.patch = op({ action: 'patch', operationId: `patch${sid}`, description: `partially update ${s.name} of the specified ${r.kind}`, gvk: sgvk, parameters: [...WRITE_PARAMS, P.force], requestBody: body(PATCH_DEF, patchTypes), responses: answer(sdef, ['200', '201']) });
      if (s.verbs.includes('create') && sdef) sp.post = op({ action: 'post', operationId: `create${sid}`, description: `create ${s.name} of a ${r.kind}`, gvk: sgvk, parameters: WRITE_PARAMS, requestBody: body(sdef), responses: answer(sdef, ['200', '201', '202']) });
    }
    if (Object.keys(sp).length > 1) paths[`${base}${nsPart}/${r.plural}/{name}/${s.name}`] = sp;
  }
  return paths;
}

/** Makes a definition publishable: drops x-orch-* keys and wraps described references in allOf. */
function publish(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(publish);
  if (!schema || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  const s = schema as Record<string, unknown>;
  for (const [k, v] of Object.entries(s)) {
    if (k.startsWith('x-orch-')) continue;
    // Standard schema keywords whose values are schemas (or maps of them) are walked; other
    // values (enum, default, example, extension payloads) are data and copied as they are.
    if (k === 'properties' || k === 'patternProperties' || k === 'definitions') {
      out[k] = Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([pk, pv]) => [pk, publish(pv)]));
    } else if (['items', 'additionalProperties', 'not', 'allOf', 'anyOf', 'oneOf'].includes(k)) {
      out[k] = typeof v === 'object' ? publish(v) : v;
    } else {
      out[k] = v;
    }
  }
  // OpenAPI 3.0 ignores siblings of $ref; upstream wraps a described reference in allOf.
  if (typeof out.$ref === 'string' && Object.keys(out).some((k) => k !== '$ref' && !k.startsWith('x-kubernetes-patch'))) {
    const { $ref, ...rest } = out;
    return { ...rest, allOf: [{ $ref }] };
  }
  return out;
}

function collectRefs(value: unknown, into: Set<string>, defs: Record<string, unknown>): void {
  if (Array.isArray(value)) { for (const v of value) collectRefs(v, into, defs); return; }
  if (!value || typeof value !== 'object') return;
  for (const [k, v] of Object.entries(value)) {
    if (k === '$ref' && typeof v === 'string' && v.startsWith(REF_PREFIX)) {
      const name = v.slice(REF_PREFIX.length);
      if (!into.has(name)) {
        into.add(name);
        collectRefs(defs[name], into, defs);
      }
    } else {
      collectRefs(v, into, defs);
    }
  }
}

/** The definitions of a custom kind and its list, built from the CRD's openAPIV3Schema. */
function customDefinitions(c: CustomResourceSchema): Record<string, SchemaObject> {
  const r = c.resource;
  const name = r.definition || customResourceDefinitionName(r);
  const gvk = [{ group: r.group, version: r.version, kind: r.kind }];
  const s: SchemaObject = structuredClone(c.schema ?? { type: 'object', 'x-kubernetes-preserve-unknown-fields': true });
  s.type ??= 'object';
  s.properties = {
    ...(s.properties ?? {}),
    apiVersion: { type: 'string', description: 'The versioned schema of this object, e.g. example.com/v1.' },
    kind: { type: 'string', description: 'The kind of this object, in CamelCase.' },
    metadata: { ...ref(`${META}.ObjectMeta`), description: 'Standard object metadata: name, namespace, labels, annotations, ...' },
  };
  s['x-kubernetes-group-version-kind'] = gvk;
  const list: SchemaObject = {
    type: 'object',
    description: `A list of ${r.kind} objects.`,
    required: ['items'],
    properties: {
      apiVersion: { type: 'string' },
      items: { type: 'array', items: ref(name) },
      kind: { type: 'string' },
      metadata: ref(`${META}.ListMeta`),
    },
    'x-kubernetes-group-version-kind': [{ group: r.group, version: r.version, kind: r.listKind }],
  };
  return { [name]: s, [`${name}List`]: list };
}

/** A resource to document, and whether it is a custom resource (no strategic merge patch). */
export interface DocumentedResource { r: ResourceInfo; custom: boolean }

/**
 * Every definition the documents draw from (the built-in ones, the PATCH body and the custom
 * kinds' definitions, not yet published) and every resource to document. Shared by the v3 and
 * v2 builders so both describe one schema set.
 */
export function openAPISources(resources: ResourceInfo[], extra: CustomResourceSchemas = []): { defs: Record<string, SchemaObject>; entries: DocumentedResource[] } {
  const builtin = getDefinitions();
  const customDefs: Record<string, SchemaObject> = {};
  for (const c of extra) Object.assign(customDefs, customDefinitions(c));
  const defs: Record<string, SchemaObject> = {
    ...builtin,
    [PATCH_DEF]: { type: 'object', description: 'The body of a PATCH request; its content type names the patch format.' },
    ...customDefs,
  };
  const entries: DocumentedResource[] = [
    ...resources.map((r) => ({ r, custom: false })),
    ...extra.map((c) => ({ r: { ...c.resource, definition: c.resource.definition || customResourceDefinitionName(c.resource) }, custom: true })),
  ];
  return { defs, entries };
}

/**
 * One OpenAPI v3 document per group-version ('api/v1', 'apis/apps/v1', and one per custom
 * resource group-version), each with the paths of its resources (every verb they support) and the
 * component schemas they reach. The caller serves /openapi/v3 and hashes each document.
 */
export function buildOpenAPIv3Documents(resources: ResourceInfo[], extra: CustomResourceSchemas = []): Map<string, object> {
  const { defs: allDefs, entries } = openAPISources(resources, extra);
  const byGV = new Map<string, DocumentedResource[]>();
  for (const e of entries) {
    const key = openAPIPathOf(e.r);
    byGV.set(key, [...(byGV.get(key) ?? []), e]);
  }
  const docs = new Map<string, object>();
  for (const [key, list] of byGV) {
    const paths: Record<string, unknown> = {};
    for (const { r, custom } of list) Object.assign(paths, pathsFor(r, custom, allDefs));
    const names = new Set<string>([`${META}.Status`, `${META}.DeleteOptions`, `${META}.WatchEvent`]);
    for (const n of [...names]) collectRefs(allDefs[n], names, allDefs);
    collectRefs(paths, names, allDefs);
    for (const { r } of list) {
      names.add(r.definition);
      collectRefs(allDefs[r.definition], names, allDefs);
    }
    const schemas: Record<string, unknown> = {};
    for (const n of [...names].sort()) if (allDefs[n]) schemas[n] = publish(allDefs[n]);
    docs.set(key, {
      openapi: '3.0.0',
      info: { title: 'Kubernetes', version: 'unversioned' },
      paths,
      components: {
        schemas,
        securitySchemes: { BearerToken: { type: 'apiKey', description: 'Bearer token authentication', name: 'authorization', in: 'header' } },
      },
      security: [{ BearerToken: [] }],
    });
  }
  return docs;
}
