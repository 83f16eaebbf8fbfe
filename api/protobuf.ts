// Decodes Kubernetes protobuf request bodies (client-go 1.32's typed clients send them: kubectl
// create configmap|secret|deployment|..., create token, auth can-i, helm's release Secrets) into
// the JSON-shaped object the client meant, driven by the protobuf field numbers in api/schema.
//
// Wire layout (apimachinery runtime/serializer/protobuf): the 4 bytes `k8s\0`, then a
// runtime.Unknown message {typeMeta{apiVersion=1, kind=2}=1, raw=2, contentEncoding=3,
// contentType=4} whose raw bytes are the kind's own message.
import { Reader } from 'protobufjs/minimal';
import { parseApiVersion } from './scheme';
import { definitionNameForKind, getDefinitions, REF_PREFIX, type SchemaObject } from './schema';

export const PROTOBUF_MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

export class ProtobufDecodeError extends Error {
  readonly code = 'ProtobufDecodeError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ProtobufDecodeError';
  }
}

/** How to read one field, worked out once per definition. */
interface FieldLayout {
  name: string;
  omitEmpty: boolean;
  shape: 'single' | 'repeated' | 'map' | 'stringList';
  /** The schema of one value (the item of a list, the value of a map). */
  value: SchemaObject;
  /** The definition a message-typed value refers to. */
  valueRef?: string;
  packable: boolean;
}
/** How one message's field numbers map to JSON properties; inlined Go structs are nested layouts. */
interface MessageLayout { fields: Map<number, FieldLayout>; inlines: Map<number, MessageLayout>; required: Set<string> }

const layouts = new Map<string, MessageLayout>();

function layoutOf(defName: string): MessageLayout {
  let layout = layouts.get(defName);
  if (layout) return layout;
  const def = getDefinitions()[defName];
  if (!def) throw new ProtobufDecodeError(`no schema for ${defName}`);
  layout = { fields: new Map(), inlines: new Map(), required: new Set(def.required ?? []) };
  for (const [name, schema] of Object.entries(def.properties ?? {})) {
    const pb = schema['x-orch-protobuf'];
    if (!pb?.field) continue;
    let target = layout;
    for (const step of pb.inline ?? []) {
      let next = target.inlines.get(step);
      if (!next) target.inlines.set(step, next = { fields: new Map(), inlines: new Map(), required: layout.required });
      target = next;
    }
    target.fields.set(pb.field, fieldLayout(name, schema, pb.omitEmpty === true));
  }
  layouts.set(defName, layout);
  return layout;
}

function fieldLayout(name: string, schema: SchemaObject, omitEmpty: boolean): FieldLayout {
  let shape: FieldLayout['shape'] = 'single';
  let value = schema;
  if (schema.type === 'array' && schema['x-orch-protobuf']?.wrapped) shape = 'stringList';
  else if (schema.type === 'array') { shape = 'repeated'; value = schema.items ?? {}; }
  else if (schema.type === 'object' && typeof schema.additionalProperties === 'object') { shape = 'map'; value = schema.additionalProperties; }
  const valueRef = refName(value);
  return { name, omitEmpty, shape, value, valueRef, packable: !valueRef && (value.type === 'integer' || value.type === 'number' || value.type === 'boolean') };
}

function refName(schema: SchemaObject): string | undefined {
  const ref = schema.$ref ?? (schema.allOf?.length === 1 ? schema.allOf[0].$ref : undefined);
  return ref?.startsWith(REF_PREFIX) ? ref.slice(REF_PREFIX.length) : undefined;
}

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_BYTES = 2;
const WIRE_FIXED32 = 5;

function toNumber(v: number | { toNumber(): number } | { low: number; high: number }): number {
  if (typeof v === 'number') return v;
  if ('toNumber' in v) return v.toNumber();
  return v.high * 0x100000000 + (v.low >>> 0);
}

/** Reads one scalar of a JSON schema type from the wire. */
function readScalar(r: Reader, schema: SchemaObject, wire: number): unknown {
  switch (schema.type) {
    case 'string':
      if (schema.format === 'byte') return Buffer.from(r.bytes()).toString('base64');
      return r.string();
    case 'boolean': return r.bool();
    case 'integer':
      if (schema.format === 'int32') return r.int32();
      return toNumber(r.int64() as any);
    case 'number':
      return schema.format === 'float' || wire === WIRE_FIXED32 ? r.float() : r.double();
    default:
      throw new ProtobufDecodeError(`cannot read a ${schema.type ?? 'untyped'} scalar`);
  }
}

function isZero(v: unknown): boolean {
  return v === '' || v === 0 || v === false;
}

/** Go formats time.Duration as 1h2m3.5s; metav1.Duration carries it in nanoseconds. */
function formatDuration(ns: number): string {
  if (ns === 0) return '0s';
  const sign = ns < 0 ? '-' : '';
  let rest = Math.abs(ns);
  if (rest < 1e3) return `${sign}${rest}ns`;
  if (rest < 1e6) return `${sign}${rest / 1e3}µs`;
  if (rest < 1e9) return `${sign}${rest / 1e6}ms`;
  const h = Math.floor(rest / 3.6e12); rest -= h * 3.6e12;
  const m = Math.floor(rest / 6e10); rest -= m * 6e10;
  const s = rest / 1e9;
  return `${sign}${h ? `${h}h` : ''}${h || m ? `${m}m` : ''}${Number(s.toFixed(9))}s`;
}

function formatTime(seconds: number, nanos: number, micro: boolean): string {
  const iso = new Date(seconds * 1000).toISOString().slice(0, 19);
  return micro ? `${iso}.${String(Math.floor(nanos / 1000)).padStart(6, '0')}Z` : `${iso}Z`;
}

function parseJSONBytes(bytes: Uint8Array, what: string): unknown {
  if (bytes.length === 0) return null;
  try {
    return JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (err) {
    throw new ProtobufDecodeError(`${what} does not hold JSON`, { cause: err });
  }
}

const JSON_SCHEMA_PROPS = 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps';
type FieldReader = (rd: Reader) => unknown;
const readInt64: FieldReader = (rd) => toNumber(rd.int64() as any);
const readInt32: FieldReader = (rd) => rd.int32();
const readString: FieldReader = (rd) => rd.string();
const readBytes: FieldReader = (rd) => rd.bytes();
const readBool: FieldReader = (rd) => rd.bool();
const readSchemaProps: FieldReader = (rd) => { const len = rd.uint32(); return decodeMessage(rd, rd.pos + len, JSON_SCHEMA_PROPS); };
/** The field readers of the messages whose JSON form is not an object of their fields. */
const WELL_KNOWN_READERS: Record<string, Record<number, FieldReader>> = {
  Time: { 1: readInt64, 2: readInt32 },
  MicroTime: { 1: readInt64, 2: readInt32 },
  Duration: { 1: readInt64 },
  Quantity: { 1: readString },
  IntOrString: { 1: readInt64, 2: readInt32, 3: readString },
  RawExtension: { 1: readBytes },
  FieldsV1: { 1: readBytes },
  JSON: { 1: readBytes },
  JSONSchemaPropsOrArray: { 1: readSchemaProps, 2: readSchemaProps },
  JSONSchemaPropsOrBool: { 1: readBool, 2: readSchemaProps },
  JSONSchemaPropsOrStringArray: { 1: readSchemaProps, 2: readString },
};

/** Messages whose JSON form is not an object of their fields (Time, Quantity, IntOrString, ...). */
function decodeWellKnown(kind: string, r: Reader, end: number): unknown {
  const table = WELL_KNOWN_READERS[kind];
  if (!table) throw new ProtobufDecodeError(`unknown well-known type ${kind}`);
  const f: Record<number, unknown[]> = {};
  while (r.pos < end) {
    const tag = r.uint32();
    const read = table[tag >>> 3];
    if (read) (f[tag >>> 3] ??= []).push(read(r));
    else r.skipType(tag & 7);
  }
  const one = (n: number) => f[n]?.[f[n].length - 1];
  switch (kind) {
    case 'Time': case 'MicroTime': {
      const seconds = (one(1) as number | undefined) ?? 0;
      const nanos = (one(2) as number | undefined) ?? 0;
      // The zero time is what Go's JSON writes as null: the field was not set.
      if (seconds === 0 && nanos === 0) return undefined;
      return formatTime(seconds, nanos, kind === 'MicroTime');
    }
    case 'Duration': return formatDuration((one(1) as number | undefined) ?? 0);
    case 'Quantity': return (one(1) as string | undefined) ?? '0';
    case 'IntOrString': return one(1) === 1 ? (one(3) ?? '') : (one(2) ?? 0);
    case 'RawExtension': case 'FieldsV1': case 'JSON': return parseJSONBytes((one(1) as Uint8Array | undefined) ?? new Uint8Array(), kind);
    case 'JSONSchemaPropsOrArray': return f[2]?.length ? f[2] : one(1);
    case 'JSONSchemaPropsOrBool': return f[2]?.length ? one(2) : (one(1) ?? false);
    case 'JSONSchemaPropsOrStringArray': return f[2]?.length ? f[2] : one(1);
  }
  return undefined;
}

/** Reads one value (a list item, a map value, or a plain field) of a field. */
function readValue(r: Reader, f: FieldLayout, wire: number): unknown {
  if (f.valueRef) {
    const len = r.uint32();
    return decodeMessage(r, r.pos + len, f.valueRef);
  }
  return readScalar(r, f.value, wire);
}

/** A nullable string list (ExtraValue, Verbs) travels as a message {repeated string items = 1}. */
function readStringList(r: Reader): string[] {
  const len = r.uint32();
  const end = r.pos + len;
  const items: string[] = [];
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag >>> 3 === 1) items.push(r.string());
    else r.skipType(tag & 7);
  }
  return items;
}

function decodeInto(r: Reader, end: number, layout: MessageLayout, out: Record<string, unknown>): void {
  while (r.pos < end) {
    const tag = r.uint32();
    const no = tag >>> 3;
    const wire = tag & 7;
    const inline = layout.inlines.get(no);
    if (inline && wire === WIRE_BYTES) {
      const len = r.uint32();
      decodeInto(r, r.pos + len, inline, out);
      continue;
    }
    const field = layout.fields.get(no);
    if (!field) { r.skipType(wire); continue; }
    const name = field.name;
    switch (field.shape) {
      case 'repeated': {
        const list = (out[name] ??= []) as unknown[];
        if (wire === WIRE_BYTES && field.packable) {
          const len = r.uint32();
          const stop = r.pos + len;
          while (r.pos < stop) list.push(readScalar(r, field.value, field.value.format === 'double' ? WIRE_FIXED64 : WIRE_VARINT));
        } else {
          list.push(readValue(r, field, wire));
        }
        break;
      }
      case 'map': {
        // A map entry is a message {key = 1, value = 2}.
        const len = r.uint32();
        const stop = r.pos + len;
        let key = '';
        let value: unknown;
        while (r.pos < stop) {
          const t = r.uint32();
          if (t >>> 3 === 1) key = r.string();
          else if (t >>> 3 === 2) value = field.value['x-orch-protobuf']?.wrapped ? readStringList(r) : readValue(r, field, t & 7);
          else r.skipType(t & 7);
        }
        if (value === undefined) value = field.valueRef ? {} : zeroOf(field.value);
        ((out[name] ??= {}) as Record<string, unknown>)[key] = value;
        break;
      }
      case 'stringList':
        out[name] = readStringList(r);
        break;
      default: {
        const value = readValue(r, field, wire);
        if (value === undefined || (field.omitEmpty && isZero(value))) delete out[name];
        else out[name] = value;
      }
    }
  }
}

function zeroOf(schema: SchemaObject): unknown {
  switch (schema.type) {
    case 'string': return '';
    case 'integer': case 'number': return 0;
    case 'boolean': return false;
    case 'array': return [];
    default: return null;
  }
}

function decodeMessage(r: Reader, end: number, defName: string): unknown {
  const def = getDefinitions()[defName];
  if (!def) throw new ProtobufDecodeError(`no schema for ${defName}`);
  const wk = def['x-orch-protobuf']?.wellKnown;
  if (wk) return decodeWellKnown(wk, r, end);
  const out: Record<string, unknown> = {};
  decodeInto(r, end, layoutOf(defName), out);
  if (r.pos !== end) throw new ProtobufDecodeError(`message ${defName} overran its length`);
  return out;
}

/** The envelope: typeMeta, raw, contentEncoding, contentType. */
export interface ProtobufEnvelope { apiVersion: string; kind: string; raw: Buffer; contentEncoding: string; contentType: string }

/** Parses the `k8s\0` + runtime.Unknown envelope. */
export function decodeEnvelope(body: Buffer): ProtobufEnvelope {
  if (body.length < 4 || !body.subarray(0, 4).equals(PROTOBUF_MAGIC)) {
    throw new ProtobufDecodeError('the body is not Kubernetes protobuf: it does not start with the k8s\\0 prefix');
  }
  const env: ProtobufEnvelope = { apiVersion: '', kind: '', raw: Buffer.alloc(0), contentEncoding: '', contentType: '' };
  try {
    const r = Reader.create(body.subarray(4));
    while (r.pos < r.len) {
      const tag = r.uint32();
      switch (tag >>> 3) {
        case 1: {
          const len = r.uint32();
          const end = r.pos + len;
          while (r.pos < end) {
            const t = r.uint32();
            if (t >>> 3 === 1) env.apiVersion = r.string();
            else if (t >>> 3 === 2) env.kind = r.string();
            else r.skipType(t & 7);
          }
          break;
        }
        case 2: env.raw = Buffer.from(r.bytes()); break;
        case 3: env.contentEncoding = r.string(); break;
        case 4: env.contentType = r.string(); break;
        default: r.skipType(tag & 7);
      }
    }
  } catch (err) {
    throw new ProtobufDecodeError(`malformed protobuf envelope: ${(err as Error).message}`, { cause: err });
  }
  return env;
}

/**
 * Decodes a `application/vnd.kubernetes.protobuf` body into a plain JSON-shaped object with
 * apiVersion and kind, as the same client would have sent it in JSON. Throws
 * ProtobufDecodeError for a missing prefix, an unknown kind or malformed bytes.
 */
export function decodeProtobufBody(body: Buffer): Record<string, unknown> {
  const env = decodeEnvelope(body);
  if (!env.kind || !env.apiVersion) throw new ProtobufDecodeError('the protobuf envelope names no apiVersion and kind');
  if (env.contentEncoding) throw new ProtobufDecodeError(`unsupported protobuf content encoding "${env.contentEncoding}"`);
  const { group, version } = parseApiVersion(env.apiVersion);
  // Option kinds (DeleteOptions, ...) travel under whichever group-version the client used.
  const metaDef = `io.k8s.apimachinery.pkg.apis.meta.v1.${env.kind}`;
  const defName = definitionNameForKind({ group, version, kind: env.kind }) ?? (getDefinitions()[metaDef] ? metaDef : undefined);
  if (!defName) throw new ProtobufDecodeError(`no protobuf schema for kind ${env.kind} in ${env.apiVersion}`);
  let decoded: unknown;
  try {
    const r = Reader.create(env.raw);
    decoded = decodeMessage(r, env.raw.length, defName);
  } catch (err) {
    if (err instanceof ProtobufDecodeError) throw err;
    throw new ProtobufDecodeError(`malformed protobuf ${env.kind}: ${(err as Error).message}`, { cause: err });
  }
  return { apiVersion: env.apiVersion, kind: env.kind, ...(decoded as Record<string, unknown>) };
}
