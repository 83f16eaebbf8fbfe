// The OpenAPI v2 (Swagger 2.0) document of everything the apiserver serves, JSON and gnostic's
// protobuf form. kubectl validates on the client with it whenever the v3 document offers no PATCH
// with fieldValidation for a kind (the review kinds, `kind: List`): it fetches /openapi/v2 as
// protobuf only (kube-api-compat.md §1) and turns the definitions into models with kube-openapi's
// proto reader, which rejects the whole document on one shape it cannot read. So the definitions
// here keep to what that reader accepts: one type per schema, `$ref` with no type or properties,
// arrays with exactly one items schema, and values it cannot type-check left untyped.
// Paths and definitions come from api/openapi's sources, so v2 and v3 list one operation set.
import * as protobuf from 'protobufjs/light';
import { openAPISources, pathsFor, type CustomResourceSchemas } from './openapi';
import type { ResourceInfo } from './scheme';
import { REF_PREFIX, type SchemaObject } from './schema';

/** Where definitions live in a Swagger 2.0 document. */
export const V2_REF_PREFIX = '#/definitions/';

/** A Swagger 2.0 document as plain JSON (what /openapi/v2 answers without the protobuf Accept). */
export interface OpenAPIv2Document {
  swagger: '2.0';
  info: { title: string; version: string };
  paths: Record<string, Record<string, unknown>>;
  definitions: Record<string, Record<string, unknown>>;
  securityDefinitions: Record<string, Record<string, unknown>>;
  security: Array<Record<string, string[]>>;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => !!v && typeof v === 'object' && !Array.isArray(v);
const v2Ref = (ref: string) => (ref.startsWith(REF_PREFIX) ? V2_REF_PREFIX + ref.slice(REF_PREFIX.length) : ref);

// ---- definitions ----

/** v3 keywords with no Swagger 2.0 counterpart; the v2 reader would ignore or reject them. */
const V3_ONLY = new Set(['nullable', 'anyOf', 'oneOf', 'not', 'allOf', 'writeOnly', 'deprecated', 'x-kubernetes-validations']);

/**
 * A definition (or property schema) in Swagger 2.0 form. Like upstream's v2 publishing of CRD
 * schemas, values kubectl's reader would check wrongly become untyped ("any value"): fields that
 * keep unknown fields (their listed properties are not all there is), int-or-string and nullable
 * values (a type would reject the other form), and arrays without an items schema.
 */
export function toV2Schema(schema: SchemaObject): Json {
  const out: Json = {};
  for (const [k, v] of Object.entries(schema)) {
    if (k.startsWith('x-orch-') || V3_ONLY.has(k)) continue;
    if (k === '$ref') out.$ref = v2Ref(v as string);
    else if (k === 'properties') {
      const props = Object.entries(v as Record<string, SchemaObject>);
      // An empty properties map would read as "an object with no fields"; upstream omits it.
      if (props.length > 0) out.properties = Object.fromEntries(props.map(([name, p]) => [name, toV2Schema(p)]));
    } else if (k === 'items') {
      const first = Array.isArray(v) ? v[0] : v;
      if (isObject(first)) out.items = toV2Schema(first as SchemaObject);
    } else if (k === 'additionalProperties') out.additionalProperties = isObject(v) ? toV2Schema(v as SchemaObject) : v;
    else out[k] = v;
  }
  const untyped = schema['x-kubernetes-preserve-unknown-fields'] === true || schema['x-kubernetes-int-or-string'] === true || schema.nullable === true
    || (out.type === 'array' && !out.items);
  if (untyped) {
    delete out.type; delete out.properties; delete out.items; delete out.additionalProperties; delete out.required;
  }
  return out;
}

// ---- paths ----

/** A v3 parameter (`schema: {type}`) as a v2 one (`type` beside `in`). */
function parameterV2(p: Json): Json {
  const { schema, ...rest } = p;
  return { ...rest, ...(isObject(schema) ? schema : {}) };
}

function schemaRefV2(s: unknown): Json | undefined {
  if (!isObject(s)) return undefined;
  return typeof s.$ref === 'string' ? { $ref: v2Ref(s.$ref) } : { ...s };
}

function operationV2(o: Json): Json {
  const params = Array.isArray(o.parameters) ? (o.parameters as Json[]).map(parameterV2) : [];
  let consumes: string[] | undefined;
  const rb = o.requestBody as { required?: boolean; content?: Record<string, { schema?: unknown }> } | undefined;
  if (rb?.content) {
    consumes = Object.keys(rb.content);
    const first = Object.values(rb.content)[0];
    params.unshift({ name: 'body', in: 'body', required: rb.required === true, schema: schemaRefV2(first?.schema) ?? {} });
  }
  const produces = new Set<string>();
  const responses: Json = {};
  for (const [code, r] of Object.entries((o.responses ?? {}) as Record<string, { description?: string; content?: Record<string, { schema?: unknown }> }>)) {
    const content = r.content ?? {};
    for (const t of Object.keys(content)) produces.add(t);
    const schema = schemaRefV2(Object.values(content)[0]?.schema);
    responses[code] = { description: r.description ?? '', ...(schema ? { schema } : {}) };
  }
  const out: Json = { description: o.description };
  if (consumes) out.consumes = consumes;
  if (produces.size > 0) out.produces = [...produces];
  out.schemes = ['https'];
  out.operationId = o.operationId;
  if (params.length > 0) out.parameters = params;
  out.responses = responses;
  for (const [k, v] of Object.entries(o)) if (k.startsWith('x-')) out[k] = v;
  return out;
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch'];

function pathItemV2(item: Record<string, unknown>): Json {
  const out: Json = {};
  for (const [k, v] of Object.entries(item)) {
    if (k === 'parameters') out.parameters = (v as Json[]).map(parameterV2);
    else if (METHODS.includes(k)) out[k] = operationV2(v as Json);
    else out[k] = v;
  }
  return out;
}

/**
 * The one Swagger 2.0 document: every path of every served resource (built-in and custom, the
 * operations api/openapi lists for v3, in v2 form: body parameters, typed query parameters,
 * consumes/produces) and every definition, keyed as upstream ('io.k8s.api.core.v1.Pod').
 */
export function buildOpenAPIv2Document(resources: ResourceInfo[], extra: CustomResourceSchemas = []): OpenAPIv2Document {
  const { defs, entries } = openAPISources(resources, extra);
  const paths: Record<string, Record<string, unknown>> = {};
  for (const { r, custom } of entries) {
    for (const [p, item] of Object.entries(pathsFor(r, custom, defs))) paths[p] = pathItemV2(item);
  }
  const definitions: Record<string, Json> = {};
  for (const name of Object.keys(defs).sort()) definitions[name] = toV2Schema(defs[name]);
  return {
    swagger: '2.0',
    info: { title: 'Kubernetes', version: 'unversioned' },
    paths: Object.fromEntries(Object.keys(paths).sort().map((p) => [p, paths[p]])),
    definitions,
    securityDefinitions: { BearerToken: { type: 'apiKey', description: 'Bearer token authentication', name: 'authorization', in: 'header' } },
    security: [{ BearerToken: [] }],
  };
}

// ---- protobuf (gnostic's openapi.v2 messages) ----

// The subset of gnostic's openapi.v2 package kubectl's reader touches. Message and field numbers
// are the wire format (gnostic-models openapiv2/OpenAPIv2.proto); names are this file's own.
const f = (type: string, id: number, repeated = false) => (repeated ? { type, id, rule: 'repeated' } : { type, id });
const ext = (id: number) => ({ vendorExtension: f('NamedAny', id, true) });
const named = (value: string) => ({ fields: { name: f('string', 1), value: f(value, 2) } });
const nonBody = (start: number) => ({
  fields: {
    required: f('bool', 1), in: f('string', 2), description: f('string', 3), name: f('string', 4),
    // Query parameters carry allowEmptyValue at 5, so their remaining fields sit one number higher.
    ...(start === 6 ? { allowEmptyValue: f('bool', 5) } : {}),
    type: f('string', start), format: f('string', start + 1), uniqueItems: f('bool', start + 14), ...ext(start + 17),
  },
});

const OPENAPI_V2_DESCRIPTOR = {
  nested: {
    openapi: {
      nested: {
        v2: {
          nested: {
            Document: {
              fields: {
                swagger: f('string', 1), info: f('Info', 2), host: f('string', 3), basePath: f('string', 4),
                schemes: f('string', 5, true), consumes: f('string', 6, true), produces: f('string', 7, true),
                paths: f('Paths', 8), definitions: f('Definitions', 9), security: f('SecurityRequirement', 12, true),
                securityDefinitions: f('SecurityDefinitions', 13), ...ext(16),
              },
            },
            Info: { fields: { title: f('string', 1), version: f('string', 2), description: f('string', 3), ...ext(7) } },
            Paths: { fields: { ...ext(1), path: f('NamedPathItem', 2, true) } },
            NamedPathItem: named('PathItem'),
            PathItem: {
              fields: {
                xRef: f('string', 1), get: f('Operation', 2), put: f('Operation', 3), post: f('Operation', 4), delete: f('Operation', 5),
                options: f('Operation', 6), head: f('Operation', 7), patch: f('Operation', 8), parameters: f('ParametersItem', 9, true), ...ext(10),
              },
            },
            Operation: {
              fields: {
                tags: f('string', 1, true), summary: f('string', 2), description: f('string', 3), operationId: f('string', 5),
                produces: f('string', 6, true), consumes: f('string', 7, true), parameters: f('ParametersItem', 8, true),
                responses: f('Responses', 9), schemes: f('string', 10, true), deprecated: f('bool', 11), ...ext(13),
              },
            },
            ParametersItem: { oneofs: { oneof: { oneof: ['parameter', 'jsonReference'] } }, fields: { parameter: f('Parameter', 1), jsonReference: f('JsonReference', 2) } },
            Parameter: { oneofs: { oneof: { oneof: ['bodyParameter', 'nonBodyParameter'] } }, fields: { bodyParameter: f('BodyParameter', 1), nonBodyParameter: f('NonBodyParameter', 2) } },
            BodyParameter: { fields: { description: f('string', 1), name: f('string', 2), in: f('string', 3), required: f('bool', 4), schema: f('Schema', 5), ...ext(6) } },
            NonBodyParameter: {
              oneofs: { oneof: { oneof: ['headerParameterSubSchema', 'queryParameterSubSchema', 'pathParameterSubSchema'] } },
              fields: { headerParameterSubSchema: f('HeaderParameterSubSchema', 1), queryParameterSubSchema: f('QueryParameterSubSchema', 3), pathParameterSubSchema: f('PathParameterSubSchema', 4) },
            },
            HeaderParameterSubSchema: nonBody(5),
            QueryParameterSubSchema: nonBody(6),
            PathParameterSubSchema: nonBody(5),
            JsonReference: { fields: { xRef: f('string', 1), description: f('string', 2) } },
            Responses: { fields: { responseCode: f('NamedResponseValue', 1, true), ...ext(2) } },
            NamedResponseValue: named('ResponseValue'),
            ResponseValue: { oneofs: { oneof: { oneof: ['response', 'jsonReference'] } }, fields: { response: f('Response', 1), jsonReference: f('JsonReference', 2) } },
            Response: { fields: { description: f('string', 1), schema: f('SchemaItem', 2), ...ext(5) } },
            SchemaItem: { oneofs: { oneof: { oneof: ['schema'] } }, fields: { schema: f('Schema', 1) } },
            Definitions: { fields: { additionalProperties: f('NamedSchema', 1, true) } },
            Properties: { fields: { additionalProperties: f('NamedSchema', 1, true) } },
            NamedSchema: named('Schema'),
            Schema: {
              fields: {
                xRef: f('string', 1), format: f('string', 2), title: f('string', 3), description: f('string', 4), default: f('Any', 5),
                multipleOf: f('double', 6), maximum: f('double', 7), exclusiveMaximum: f('bool', 8), minimum: f('double', 9),
                exclusiveMinimum: f('bool', 10), maxLength: f('int64', 11), minLength: f('int64', 12), pattern: f('string', 13),
                maxItems: f('int64', 14), minItems: f('int64', 15), uniqueItems: f('bool', 16), maxProperties: f('int64', 17),
                minProperties: f('int64', 18), required: f('string', 19, true), enum: f('Any', 20, true),
                additionalProperties: f('AdditionalPropertiesItem', 21), type: f('TypeItem', 22), items: f('ItemsItem', 23),
                allOf: f('Schema', 24, true), properties: f('Properties', 25), discriminator: f('string', 26), readOnly: f('bool', 27),
                example: f('Any', 30), ...ext(31),
              },
            },
            AdditionalPropertiesItem: { oneofs: { oneof: { oneof: ['schema', 'boolean'] } }, fields: { schema: f('Schema', 1), boolean: f('bool', 2) } },
            TypeItem: { fields: { value: f('string', 1, true) } },
            ItemsItem: { fields: { schema: f('Schema', 1, true) } },
            // Field 1 (a google.protobuf.Any) is never set: gnostic carries values as YAML text.
            Any: { fields: { yaml: f('string', 2) } },
            NamedAny: named('Any'),
            SecurityDefinitions: { fields: { additionalProperties: f('NamedSecurityDefinitionsItem', 1, true) } },
            NamedSecurityDefinitionsItem: named('SecurityDefinitionsItem'),
            SecurityDefinitionsItem: { oneofs: { oneof: { oneof: ['apiKeySecurity'] } }, fields: { apiKeySecurity: f('ApiKeySecurity', 2) } },
            ApiKeySecurity: { fields: { type: f('string', 1), name: f('string', 2), in: f('string', 3), description: f('string', 4), ...ext(5) } },
            SecurityRequirement: { fields: { additionalProperties: f('NamedStringArray', 1, true) } },
            NamedStringArray: named('StringArray'),
            StringArray: { fields: { value: f('string', 1, true) } },
          },
        },
      },
    },
  },
};

let root: protobuf.Root | undefined;
/** The openapi.v2 message types (Document, Schema, ...), for encoding here and decoding in tests. */
export function openAPIv2Types(): protobuf.Root {
  root ??= protobuf.Root.fromJSON(OPENAPI_V2_DESCRIPTOR);
  return root;
}

/**
 * gnostic's Any: the value as YAML text, which kube-openapi's reader parses with yaml.v2. JSON is
 * YAML flow style, reads back the same, and is ~30x cheaper to write than block YAML here.
 */
const anyOf = (v: unknown) => ({ yaml: JSON.stringify(v) });
const extensionsOf = (o: Json) => Object.entries(o).filter(([k]) => k.startsWith('x-')).map(([name, v]) => ({ name, value: anyOf(v) }));

const SCHEMA_STRINGS = ['format', 'title', 'description', 'pattern', 'discriminator'];
const SCHEMA_SCALARS = ['multipleOf', 'maximum', 'exclusiveMaximum', 'minimum', 'exclusiveMinimum', 'maxLength', 'minLength', 'maxItems', 'minItems',
  'uniqueItems', 'maxProperties', 'minProperties', 'readOnly'];

function schemaMessage(s: Json): Json {
  const m: Json = {};
  if (typeof s.$ref === 'string') m.xRef = s.$ref;
  for (const k of SCHEMA_STRINGS) if (typeof s[k] === 'string') m[k] = s[k];
  for (const k of SCHEMA_SCALARS) if (typeof s[k] === 'number' || typeof s[k] === 'boolean') m[k] = s[k];
  if (s.default !== undefined) m.default = anyOf(s.default);
  if (s.example !== undefined) m.example = anyOf(s.example);
  if (Array.isArray(s.required)) m.required = s.required;
  if (Array.isArray(s.enum)) m.enum = s.enum.map(anyOf);
  if (s.type !== undefined) m.type = { value: Array.isArray(s.type) ? s.type : [s.type] };
  if (isObject(s.items)) m.items = { schema: [schemaMessage(s.items)] };
  if (isObject(s.additionalProperties)) m.additionalProperties = { schema: schemaMessage(s.additionalProperties) };
  else if (typeof s.additionalProperties === 'boolean') m.additionalProperties = { boolean: s.additionalProperties };
  if (Array.isArray(s.allOf)) m.allOf = (s.allOf as Json[]).map(schemaMessage);
  if (isObject(s.properties)) m.properties = { additionalProperties: Object.entries(s.properties).map(([name, v]) => ({ name, value: schemaMessage(v as Json) })) };
  const e = extensionsOf(s);
  if (e.length > 0) m.vendorExtension = e;
  return m;
}

function parameterMessage(p: Json): Json {
  if (typeof p.$ref === 'string') return { jsonReference: { xRef: p.$ref } };
  if (p.in === 'body') {
    return { parameter: { bodyParameter: { description: p.description, name: p.name, in: p.in, required: p.required === true, schema: schemaMessage(p.schema as Json) } } };
  }
  const sub: Json = { required: p.required === true, in: p.in, description: p.description, name: p.name, type: p.type, format: p.format, uniqueItems: p.uniqueItems };
  for (const k of Object.keys(sub)) if (sub[k] === undefined) delete sub[k];
  const e = extensionsOf(p);
  if (e.length > 0) sub.vendorExtension = e;
  const key = p.in === 'path' ? 'pathParameterSubSchema' : p.in === 'header' ? 'headerParameterSubSchema' : 'queryParameterSubSchema';
  return { parameter: { nonBodyParameter: { [key]: sub } } };
}

function operationMessage(o: Json): Json {
  const m: Json = { description: o.description, operationId: o.operationId };
  for (const k of ['tags', 'produces', 'consumes', 'schemes']) if (Array.isArray(o[k])) m[k] = o[k];
  if (Array.isArray(o.parameters)) m.parameters = (o.parameters as Json[]).map(parameterMessage);
  m.responses = {
    responseCode: Object.entries((o.responses ?? {}) as Record<string, Json>).map(([name, r]) => ({
      name, value: { response: { description: r.description ?? '', ...(isObject(r.schema) ? { schema: { schema: schemaMessage(r.schema) } } : {}) } },
    })),
  };
  const e = extensionsOf(o);
  if (e.length > 0) m.vendorExtension = e;
  return m;
}

function pathItemMessage(item: Json): Json {
  const m: Json = {};
  for (const method of METHODS) if (isObject(item[method])) m[method] = operationMessage(item[method]);
  if (Array.isArray(item.parameters)) m.parameters = (item.parameters as Json[]).map(parameterMessage);
  const e = extensionsOf(item);
  if (e.length > 0) m.vendorExtension = e;
  return m;
}

/** The document as gnostic's openapi.v2.Document in protobuf wire format (what kubectl reads). */
export function encodeOpenAPIv2Document(doc: OpenAPIv2Document): Uint8Array {
  const Document = openAPIv2Types().lookupType('openapi.v2.Document');
  const message = {
    swagger: doc.swagger,
    info: { title: doc.info.title, version: doc.info.version },
    paths: { path: Object.entries(doc.paths).map(([name, item]) => ({ name, value: pathItemMessage(item) })) },
    definitions: { additionalProperties: Object.entries(doc.definitions).map(([name, s]) => ({ name, value: schemaMessage(s) })) },
    security: doc.security.map((req) => ({ additionalProperties: Object.entries(req).map(([name, scopes]) => ({ name, value: { value: scopes } })) })),
    securityDefinitions: {
      additionalProperties: Object.entries(doc.securityDefinitions).map(([name, d]) => ({
        name, value: { apiKeySecurity: { type: d.type, name: d.name, in: d.in, description: d.description } },
      })),
    },
  };
  // The message is built in the exact shape of the types, so it is encoded as is (no fromObject copy).
  return Document.encode(message).finish();
}
