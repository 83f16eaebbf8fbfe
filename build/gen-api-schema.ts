// Generates api/schema/generated/definitions.json: orch's one schema description of every
// built-in kind and every type they reach, in OpenAPI v3 form plus protobuf field numbers.
//
// Facts come from the wire format, not from anyone's prose:
//  - the type graph, JSON field names, protobuf field numbers and the patch/list markers
//    (+patchStrategy, +patchMergeKey, +listType, +listMapKey, +mapType, +structType) are read from
//    the generated.proto files of k8s.io/api, k8s.io/apimachinery and k8s.io/apiextensions-apiserver
//    at v0.32.4 (PodPreset from k8s.io/api v0.19.16, its last release);
//  - which fields are required, and the JSON spelling where it differs from the proto name
//    ($ref, x-kubernetes-*), come from @kubernetes/client-node's generated models;
//  - descriptions are orch's own words (build/api-schema-descriptions.ts).
//
// Run: npx tsx build/gen-api-schema.ts --api <kubernetes/api git dir> \
//        --apimachinery <kubernetes/apimachinery git dir> --apiextensions <kubernetes/apiextensions-apiserver git dir>
//        [--models <client-node 2.0.1 dist/gen/models>]
// Each git dir needs the v0.32.4 tag (and api the v0.19.16 tag); the files are read with `git show`.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { builtinResources } from '../api/scheme';
import { commonFieldDescriptions, definitionDescriptions, fieldEnums } from './api-schema-descriptions';

const TAG = 'v0.32.4';
const PODPRESET_TAG = 'v0.19.16';
const ROOT = path.resolve(__dirname, '..');
const OUT = path.join(ROOT, 'api/schema/generated/definitions.json');
// The committed file was generated from client-node 2.0.1's models; the project now installs 1.4
// (2.x does not load on Node 20), whose models mark other fields required. `--models` points at the
// dist/gen/models of an unpacked 2.0.1 (`npm pack @kubernetes/client-node@2.0.1`) so a regeneration
// changes only what the scheme or descriptions changed.
const MODELS = optionalArg('models') ?? path.join(ROOT, 'node_modules/@kubernetes/client-node/dist/gen/models');

type Schema = Record<string, any>;

function arg(name: string): string {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0 || !process.argv[i + 1]) throw new Error(`missing --${name} <git dir>`);
  return process.argv[i + 1];
}

function optionalArg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? undefined : process.argv[i + 1];
}

function gitShow(dir: string, tag: string, file: string): string {
  return execFileSync('git', ['--git-dir', gitDir(dir), 'show', `${tag}:${file}`], { encoding: 'utf8', maxBuffer: 64 << 20 });
}

// ---- proto parsing (the generated.proto files are flat and regular: no nesting, no enums) ----

interface ProtoField {
  name: string; number: number; label: 'optional' | 'repeated' | 'map';
  type: string; mapValue?: string; markers: Record<string, string[]>;
}
interface ProtoMessage { def: string; pkg: string; name: string; fields: ProtoField[]; markers: Record<string, string[]>; goFields?: Map<number, GoField> }
/** What the Go struct says of a field: a pointer keeps a zero value in JSON, omitempty drops it. */
interface GoField { pointer: boolean; omitEmpty: boolean }

function definitionName(protoPackage: string): string {
  return 'io.' + protoPackage.replace(/^k8s\.io\./, 'k8s.').replace('apiextensions_apiserver', 'apiextensions-apiserver');
}

/** Reads the Go structs of a package: for each struct, protobuf field number -> pointer/omitempty. */
function parseGoStructs(dir: string, tag: string, pkgPath: string): Map<string, Map<number, GoField>> {
  const out = new Map<string, Map<number, GoField>>();
  const files = execFileSync('git', ['--git-dir', gitDir(dir), 'ls-tree', '--name-only', tag, `${pkgPath}/`], { encoding: 'utf8' })
    .split('\n').filter((f) => f.endsWith('.go') && !/(_test|generated\.pb|swagger_doc_generated)\.go$/.test(f) && !path.basename(f).startsWith('zz_'));
  for (const f of files) {
    let current: Map<number, GoField> | undefined;
    for (const line of gitShow(dir, tag, f).split('\n')) {
      const st = /^type (\w+) struct \{/.exec(line);
      if (st) { current = new Map(); out.set(st[1], current); continue; }
      if (line.startsWith('}')) { current = undefined; continue; }
      if (!current) continue;
      const field = /^\t(?:\w+\s+)?([*\[\]\w.]+)\s+`([^`]*)`/.exec(line);
      const pb = field && /protobuf:"\w+,(\d+),/.exec(field[2]);
      if (!field || !pb) continue;
      const json = /json:"([^"]*)"/.exec(field[2])?.[1] ?? '';
      current.set(Number(pb[1]), { pointer: field[1].startsWith('*'), omitEmpty: json.split(',').includes('omitempty') });
    }
  }
  return out;
}

function gitDir(dir: string): string {
  return fs.existsSync(path.join(dir, 'HEAD')) ? dir : path.join(dir, '.git');
}

function parseProto(text: string, messages: Map<string, ProtoMessage>, goStructs?: Map<string, Map<number, GoField>>): void {
  const pkg = /^package ([\w.]+);/m.exec(text)![1];
  let markers: Record<string, string[]> = {};
  let current: ProtoMessage | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const marker = /^\/\/\s*\+([\w.:-]+)(?:=(.*))?$/.exec(line);
    if (marker) { (markers[marker[1]] ??= []).push((marker[2] ?? '').trim()); continue; }
    if (line.startsWith('//')) continue;
    if (line === '') { if (!current) markers = {}; continue; }
    const msg = /^message (\w+) \{$/.exec(line);
    if (msg) {
      current = { def: `${definitionName(pkg)}.${msg[1]}`, pkg, name: msg[1], fields: [], markers, goFields: goStructs?.get(msg[1]) };
      messages.set(current.def, current);
      markers = {};
      continue;
    }
    if (line === '}') { current = undefined; markers = {}; continue; }
    if (!current) { markers = {}; continue; }
    const map = /^map<(\S+), ?(\S+)> (\w+) = (\d+);$/.exec(line);
    const field = /^(optional|repeated) (\S+) (\w+) = (\d+);$/.exec(line);
    if (map) {
      current.fields.push({ name: map[3], number: Number(map[4]), label: 'map', type: map[1], mapValue: qualify(map[2], pkg), markers });
    } else if (field) {
      current.fields.push({ name: field[3], number: Number(field[4]), label: field[1] as 'optional' | 'repeated', type: qualify(field[2], pkg), markers });
    } else {
      throw new Error(`unparsed proto line in ${pkg}.${current.name}: ${line}`);
    }
    markers = {};
  }
}

const SCALARS = new Set(['string', 'int32', 'int64', 'bool', 'bytes', 'double', 'float']);
function qualify(type: string, pkg: string): string {
  if (SCALARS.has(type)) return type;
  const t = type.replace(/^\./, '');
  return t.includes('.') ? `${definitionName(t.slice(0, t.lastIndexOf('.')))}.${t.slice(t.lastIndexOf('.') + 1)}` : `${definitionName(pkg)}.${t}`;
}

// ---- client-node models: JSON names and required fields ----

interface ModelInfo { baseNames: Map<string, string> /* ts name -> json name */; required: Set<string> /* json names */ }
function loadModel(className: string): ModelInfo | undefined {
  const js = path.join(MODELS, `${className}.js`);
  if (!fs.existsSync(js)) return undefined;
  const text = fs.readFileSync(js, 'utf8');
  const baseNames = new Map<string, string>();
  for (const m of text.matchAll(/"name": "([^"]+)",\s*"baseName": "([^"]+)"/g)) baseNames.set(m[1], m[2]);
  const dts = fs.readFileSync(path.join(MODELS, `${className}.d.ts`), 'utf8');
  const required = new Set<string>();
  for (const m of dts.matchAll(/^\s*'([^']+)': /gm)) required.add(baseNames.get(m[1]) ?? m[1]);
  return { baseNames, required };
}

function modelFor(msg: ProtoMessage): ModelInfo | undefined {
  // client-node names a type <Version><Name>, or <Group><Version><Name> where names collide.
  const parts = msg.pkg.split('.');
  const version = parts[parts.length - 1];
  const groupPart = parts[parts.length - 2];
  const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
  const groupName = groupPart === 'apiextensions' ? 'Apiextensions' : cap(groupPart);
  const candidates = [`${groupName}${cap(version)}${msg.name}`, `${cap(version)}${msg.name}`];
  const protoNames = new Set(msg.fields.map((f) => f.name));
  let best: ModelInfo | undefined;
  let bestScore = -1;
  for (const c of candidates) {
    const m = loadModel(c);
    if (!m) continue;
    const score = [...m.baseNames.values()].filter((b) => protoNames.has(b)).length;
    if (score > bestScore) { best = m; bestScore = score; }
  }
  return best;
}

// ---- special types: how a proto message appears in JSON ----

const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';
const APIEXT = 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1';
const WELL_KNOWN: Record<string, Schema> = {
  [`${META}.Time`]: { type: 'string', format: 'date-time', 'x-orch-protobuf': { wellKnown: 'Time' } },
  [`${META}.MicroTime`]: { type: 'string', format: 'date-time', 'x-orch-protobuf': { wellKnown: 'MicroTime' } },
  [`${META}.Duration`]: { type: 'string', 'x-orch-protobuf': { wellKnown: 'Duration' } },
  [`${META}.FieldsV1`]: { type: 'object', 'x-orch-protobuf': { wellKnown: 'FieldsV1' } },
  'io.k8s.apimachinery.pkg.api.resource.Quantity': { type: 'string', 'x-orch-protobuf': { wellKnown: 'Quantity' } },
  'io.k8s.apimachinery.pkg.util.intstr.IntOrString': { type: 'string', format: 'int-or-string', 'x-orch-protobuf': { wellKnown: 'IntOrString' } },
  'io.k8s.apimachinery.pkg.runtime.RawExtension': { type: 'object', 'x-orch-protobuf': { wellKnown: 'RawExtension' } },
  [`${APIEXT}.JSON`]: { 'x-orch-protobuf': { wellKnown: 'JSON' } },
  [`${APIEXT}.JSONSchemaPropsOrArray`]: { 'x-orch-protobuf': { wellKnown: 'JSONSchemaPropsOrArray' } },
  [`${APIEXT}.JSONSchemaPropsOrBool`]: { 'x-orch-protobuf': { wellKnown: 'JSONSchemaPropsOrBool' } },
  [`${APIEXT}.JSONSchemaPropsOrStringArray`]: { 'x-orch-protobuf': { wellKnown: 'JSONSchemaPropsOrStringArray' } },
};

function scalarSchema(t: string): Schema {
  switch (t) {
    case 'string': return { type: 'string' };
    case 'bytes': return { type: 'string', format: 'byte' };
    case 'bool': return { type: 'boolean' };
    case 'int32': return { type: 'integer', format: 'int32' };
    case 'int64': return { type: 'integer', format: 'int64' };
    case 'double': return { type: 'number', format: 'double' };
    case 'float': return { type: 'number', format: 'float' };
    default: throw new Error(`unknown scalar ${t}`);
  }
}

function main(): void {
  const apiDir = arg('api');
  const machineryDir = arg('apimachinery');
  const extDir = arg('apiextensions');
  const messages = new Map<string, ProtoMessage>();
  const apiFiles = execFileSync('git', ['--git-dir', gitDir(apiDir), 'ls-tree', '-r', '--name-only', TAG], { encoding: 'utf8' })
    .split('\n').filter((f) => f.endsWith('/generated.proto'));
  const load = (dir: string, tag: string, file: string) =>
    parseProto(gitShow(dir, tag, file), messages, parseGoStructs(dir, tag, path.dirname(file)));
  for (const f of apiFiles) load(apiDir, TAG, f);
  load(apiDir, PODPRESET_TAG, 'settings/v1alpha1/generated.proto');
  for (const f of ['pkg/apis/meta/v1/generated.proto', 'pkg/api/resource/generated.proto', 'pkg/util/intstr/generated.proto', 'pkg/runtime/generated.proto']) {
    load(machineryDir, TAG, f);
  }
  load(extDir, TAG, 'pkg/apis/apiextensions/v1/generated.proto');

  // Roots: every served kind and its list, the kinds subresources speak, and the meta kinds
  // every group-version document refers to.
  const gvkOf = new Map<string, Array<{ group: string; version: string; kind: string }>>();
  const addGVK = (def: string, group: string, version: string, kind: string) => {
    const list = gvkOf.get(def) ?? [];
    if (!list.some((g) => g.group === group && g.version === version && g.kind === kind)) list.push({ group, version, kind });
    gvkOf.set(def, list);
  };
  const roots: string[] = [];
  for (const r of builtinResources) {
    roots.push(r.definition);
    addGVK(r.definition, r.group, r.version, r.kind);
    // Review kinds are never stored, so they have no list type.
    if (r.verbs.includes('list')) {
      roots.push(`${r.definition}List`);
      addGVK(`${r.definition}List`, r.group, r.version, r.listKind);
    }
    for (const s of r.subresources) {
      if (!s.kind) continue;
      const g = s.group ?? r.group;
      const v = s.version ?? r.version;
      const prefix = r.definition.slice(0, r.definition.lastIndexOf('.'));
      const def = s.group === undefined ? `${prefix}.${s.kind}` : (g === 'autoscaling' ? `io.k8s.api.autoscaling.${v}.${s.kind}` : `io.k8s.api.${g.replace(/\.k8s\.io$/, '')}.${v}.${s.kind}`);
      roots.push(def);
      addGVK(def, g, v, s.kind);
    }
  }
  roots.push('io.k8s.api.core.v1.PodLogOptions');
  addGVK('io.k8s.api.core.v1.PodLogOptions', '', 'v1', 'PodLogOptions');
  for (const k of ['Status', 'DeleteOptions', 'WatchEvent', 'APIResourceList', 'APIGroupList', 'APIVersions', 'PartialObjectMetadata', 'PartialObjectMetadataList']) {
    roots.push(`${META}.${k}`);
    addGVK(`${META}.${k}`, '', 'v1', k);
  }

  const defs: Record<string, Schema> = {};
  const missingModels: string[] = [];
  const unmatched: string[] = [];
  const queue = [...roots];
  const seen = new Set<string>();
  while (queue.length > 0) {
    const def = queue.shift()!;
    if (seen.has(def)) continue;
    seen.add(def);
    if (WELL_KNOWN[def]) { defs[def] = structuredClone(WELL_KNOWN[def]); continue; }
    const msg = messages.get(def);
    if (!msg) throw new Error(`no proto message for ${def}`);
    const model = modelFor(msg);
    if (!model) missingModels.push(def);
    const schema: Schema = { type: 'object', properties: addProperties(msg, model, [], messages, queue, unmatched) };
    const gvks = gvkOf.get(def);
    // TypeMeta travels in the protobuf envelope, so the kinds' messages lack apiVersion and kind.
    const modelNames = new Set(model ? model.baseNames.values() : []);
    if (gvks || modelNames.has('apiVersion')) schema.properties.apiVersion ??= { type: 'string' };
    if (gvks || modelNames.has('kind')) schema.properties.kind ??= { type: 'string' };
    const required = model ? [...model.required].filter((r) => r in schema.properties).sort() : [];
    if (required.length > 0) schema.required = required;
    if (gvks) schema['x-kubernetes-group-version-kind'] = gvks;
    const structType = msg.markers.structType?.[0];
    if (structType === 'atomic') schema['x-kubernetes-map-type'] = 'atomic';
    schema.properties = Object.fromEntries(Object.entries(schema.properties).sort(([a], [b]) => a.localeCompare(b)));
    defs[def] = schema;
  }

  // Descriptions in orch's own words: per definition, per field, and for fields every kind shares.
  for (const [def, schema] of Object.entries(defs)) {
    const d = definitionDescriptions[def];
    if (d?.description) schema.description = d.description;
    for (const [name, prop] of Object.entries((schema.properties ?? {}) as Record<string, Schema>)) {
      const text = d?.fields?.[name] ?? commonFieldDescriptions[name];
      if (text) prop.description = text;
    }
  }
  for (const def of Object.keys(definitionDescriptions)) if (!defs[def]) throw new Error(`description for unknown definition ${def}`);
  for (const [def, enums] of Object.entries(fieldEnums)) {
    for (const [name, values] of Object.entries(enums)) {
      const prop = defs[def]?.properties?.[name];
      if (!prop) throw new Error(`enum for unknown field ${def}.${name}`);
      prop.enum = values;
    }
  }
  for (const [def, d] of Object.entries(definitionDescriptions)) {
    for (const name of Object.keys(d.fields ?? {})) if (!defs[def].properties?.[name]) throw new Error(`description for unknown field ${def}.${name}`);
  }

  const sorted = Object.fromEntries(Object.entries(defs).sort(([a], [b]) => a.localeCompare(b)));
  fs.mkdirSync(path.dirname(OUT), { recursive: true });
  fs.writeFileSync(OUT, JSON.stringify(sorted) + '\n');
  process.stdout.write(`wrote ${Object.keys(sorted).length} definitions (${fs.statSync(OUT).size} bytes) to ${path.relative(ROOT, OUT)}\n`);
  if (missingModels.length) process.stdout.write(`no client-node model (no required list): ${missingModels.join(', ')}\n`);
  if (unmatched.length) process.stdout.write(`proto names without a client-node JSON name (kept as is): ${unmatched.join(', ')}\n`);
}

const normalize = (n: string) => n.toLowerCase().replace(/[^a-z0-9]/g, '');

/**
 * The JSON properties of a message. A Go struct embedded with `json:",inline"` (VolumeSource in
 * Volume, ProbeHandler in Probe, LocalObjectReference in ConfigMapKeySelector, ...) is a nested
 * message in protobuf but flat in JSON: its fields join the parent's, and `inline` records the
 * path of protobuf field numbers that leads to them.
 */
function addProperties(msg: ProtoMessage, model: ModelInfo | undefined, inline: number[], messages: Map<string, ProtoMessage>, queue: string[], unmatched: string[]): Record<string, Schema> {
  const props: Record<string, Schema> = {};
  const jsonNames = model ? [...model.baseNames.values()] : [];
  for (const f of msg.fields) {
    const json = model ? jsonNames.find((b) => b === f.name) ?? jsonNames.find((b) => normalize(b) === normalize(f.name)) : f.name;
    const child = messages.get(f.type);
    if (json === undefined && f.label === 'optional' && child && !WELL_KNOWN[f.type]) {
      Object.assign(props, addProperties(child, model, [...inline, f.number], messages, queue, unmatched));
      continue;
    }
    if (json === undefined) unmatched.push(`${msg.def}.${f.name}`);
    const prop = fieldSchema(f, messages, queue);
    // Go writes every non-pointer scalar to protobuf, zero or not; JSON drops the zero ones
    // tagged omitempty. The decoder needs to know which, to produce what the client meant.
    const go = msg.goFields?.get(f.number);
    const omitEmpty = f.label === 'optional' && go !== undefined && go.omitEmpty && !go.pointer;
    prop['x-orch-protobuf'] = { ...(prop['x-orch-protobuf'] ?? {}), field: f.number, ...(inline.length ? { inline } : {}), ...(omitEmpty ? { omitEmpty: true } : {}) };
    props[json ?? f.name] = prop;
  }
  return props;
}

/** A nullable string-list message (Verbs, ExtraValue) is a plain JSON array. */
function stringListAlias(msg: ProtoMessage | undefined): boolean {
  return !!msg && 'protobuf.nullable' in msg.markers && msg.fields.length === 1 && msg.fields[0].label === 'repeated' && msg.fields[0].type === 'string';
}

function typeSchema(type: string, messages: Map<string, ProtoMessage>, queue: string[]): Schema {
  if (SCALARS.has(type)) return scalarSchema(type);
  if (stringListAlias(messages.get(type))) return { type: 'array', items: { type: 'string' }, 'x-orch-protobuf': { wrapped: 1 } };
  queue.push(type);
  return { $ref: `#/components/schemas/${type}` };
}

function fieldSchema(f: ProtoField, messages: Map<string, ProtoMessage>, queue: string[]): Schema {
  const m = f.markers;
  let s: Schema;
  if (f.label === 'map') {
    s = { type: 'object', additionalProperties: typeSchema(f.mapValue!, messages, queue) };
    if (m.mapType?.[0]) s['x-kubernetes-map-type'] = m.mapType[0];
  } else if (f.label === 'repeated') {
    s = { type: 'array', items: typeSchema(f.type, messages, queue) };
    if (m.listType?.[0]) s['x-kubernetes-list-type'] = m.listType[0];
    if (m.listMapKey?.length) s['x-kubernetes-list-map-keys'] = m.listMapKey;
  } else {
    s = typeSchema(f.type, messages, queue);
    if (m.mapType?.[0]) s['x-kubernetes-map-type'] = m.mapType[0];
    if (m.structType?.[0]) s['x-kubernetes-map-type'] = m.structType[0];
  }
  if (m.patchMergeKey?.[0]) s['x-kubernetes-patch-merge-key'] = m.patchMergeKey[0];
  if (m.patchStrategy?.[0]) s['x-kubernetes-patch-strategy'] = m.patchStrategy[0];
  return s;
}

main();
