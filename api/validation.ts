// Validation: the checks of a Kubernetes 1.32 apiserver that users notice, with field paths and
// messages in upstream's words (kubectl prints them as `* <field>: <message>`), plus strict
// decoding (unknown fields), CRD schema validation and pruning.
import { isQuantity, parseQuantity } from './quantity';
import { resourceForKind, type GroupVersionKind } from './scheme';
import { getDefinitions, resolveSchema, schemaForKind, type SchemaObject } from './schema';

export type FieldErrorType =
  | 'FieldValueRequired' | 'FieldValueInvalid' | 'FieldValueNotSupported' | 'FieldValueDuplicate'
  | 'FieldValueForbidden' | 'FieldValueTooLong' | 'FieldValueTooMany' | 'FieldValueNotFound';

/**
 * One invalid field. `field` is the path ('spec.containers[0].image'); `message` is upstream's
 * error body without the path ('Required value', 'Invalid value: "Bad_Name": a lowercase RFC 1123
 * subdomain must ...'), so a Status cause is {reason: type, field, message} and the Status
 * message lists `<field>: <message>`.
 */
export interface FieldError { type: FieldErrorType; field: string; message: string }

// ---- upstream's formats for field errors ----

/** Go's %v/%q rendering of a value inside an error message. */
function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}
export const required = (field: string, detail = ''): FieldError =>
  ({ type: 'FieldValueRequired', field, message: detail ? `Required value: ${detail}` : 'Required value' });
export const invalid = (field: string, value: unknown, detail: string): FieldError =>
  ({ type: 'FieldValueInvalid', field, message: `Invalid value: ${show(value)}${detail ? `: ${detail}` : ''}` });
export const notSupported = (field: string, value: unknown, supported: string[]): FieldError =>
  ({ type: 'FieldValueNotSupported', field, message: `Unsupported value: ${show(value)}: supported values: ${supported.map((s) => JSON.stringify(s)).join(', ')}` });
export const duplicate = (field: string, value: unknown): FieldError =>
  ({ type: 'FieldValueDuplicate', field, message: `Duplicate value: ${show(value)}` });
export const forbidden = (field: string, detail: string): FieldError =>
  ({ type: 'FieldValueForbidden', field, message: `Forbidden: ${detail}` });
export const tooLong = (field: string, max: number): FieldError =>
  ({ type: 'FieldValueTooLong', field, message: `Too long: may not be more than ${max} bytes` });
export const tooMany = (field: string, actual: number, max: number): FieldError =>
  ({ type: 'FieldValueTooMany', field, message: `Too many: ${actual}: must have at most ${max} items` });
/** Invalid without echoing a value (upstream's field.OmitValueType). */
export const invalidRule = (field: string, detail: string): FieldError =>
  ({ type: 'FieldValueInvalid', field, message: `Invalid value: ${detail}` });
export const notFound = (field: string, value: unknown): FieldError =>
  ({ type: 'FieldValueNotFound', field, message: `Not found: ${show(value)}` });

/** How upstream prints one error: `<field>: <message>`. */
export function formatFieldError(e: FieldError): string {
  return `${e.field}: ${e.message}`;
}

// ---- name and label syntax ----

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;
const ENV_VAR_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;
const IANA_SVC_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

const MSG_SUBDOMAIN = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const MSG_LABEL = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const MSG_DNS1035 = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
const MSG_QUALIFIED = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const MSG_LABEL_VALUE = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
const MSG_CONFIG_KEY = "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')";
const MSG_ENV = "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  or 'MyEnvName1', regex used for validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')";

/** DNS-1123 subdomain (most object names): at most 253 characters. */
export function validateDNS1123Subdomain(value: string, field: string): FieldError[] {
  const errs: FieldError[] = [];
  if (value.length > 253) errs.push(invalid(field, value, 'must be no more than 253 characters'));
  if (!DNS1123_SUBDOMAIN.test(value)) errs.push(invalid(field, value, MSG_SUBDOMAIN));
  return errs;
}
/** DNS-1123 label (namespaces, container and port names): at most 63 characters. */
export function validateDNS1123Label(value: string, field: string): FieldError[] {
  const errs: FieldError[] = [];
  if (value.length > 63) errs.push(invalid(field, value, 'must be no more than 63 characters'));
  if (!DNS1123_LABEL.test(value)) errs.push(invalid(field, value, MSG_LABEL));
  return errs;
}
/** DNS-1035 label (Service names: they become DNS names that must not start with a digit). */
export function validateDNS1035Label(value: string, field: string): FieldError[] {
  const errs: FieldError[] = [];
  if (value.length > 63) errs.push(invalid(field, value, 'must be no more than 63 characters'));
  if (!DNS1035_LABEL.test(value)) errs.push(invalid(field, value, MSG_DNS1035));
  return errs;
}

/** A label or annotation key: an optional DNS subdomain prefix and '/', then a name of at most 63. */
export function validateQualifiedName(value: string, field: string): FieldError[] {
  const parts = value.split('/');
  let name = value;
  const errs: FieldError[] = [];
  if (parts.length === 2) {
    const [prefix, n] = parts;
    name = n;
    if (prefix.length === 0) errs.push(invalid(field, value, 'prefix part must be non-empty'));
    else if (prefix.length > 253 || !DNS1123_SUBDOMAIN.test(prefix)) errs.push(invalid(field, value, `prefix part ${MSG_SUBDOMAIN}`));
  } else if (parts.length > 2) {
    return [invalid(field, value, `a qualified name ${MSG_QUALIFIED.replace('name part ', '')} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`)];
  }
  if (name.length === 0) errs.push(invalid(field, value, 'name part must be non-empty'));
  else {
    if (name.length > 63) errs.push(invalid(field, value, 'name part must be no more than 63 characters'));
    if (!QUALIFIED_NAME.test(name)) errs.push(invalid(field, value, MSG_QUALIFIED));
  }
  return errs;
}

export function validateLabels(labels: unknown, field: string): FieldError[] {
  if (labels === undefined || labels === null) return [];
  if (!isObj(labels)) return [invalid(field, labels, 'must be a map of strings')];
  const errs: FieldError[] = [];
  for (const [k, v] of Object.entries(labels)) {
    errs.push(...validateQualifiedName(k, field));
    if (typeof v !== 'string') { errs.push(invalid(`${field}[${k}]`, v, 'must be a string')); continue; }
    if (v.length > 63) errs.push(invalid(field, v, 'must be no more than 63 characters'));
    if (!LABEL_VALUE.test(v)) errs.push(invalid(field, v, MSG_LABEL_VALUE));
  }
  return errs;
}

const TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024;
export function validateAnnotations(annotations: unknown, field: string): FieldError[] {
  if (annotations === undefined || annotations === null) return [];
  if (!isObj(annotations)) return [invalid(field, annotations, 'must be a map of strings')];
  const errs: FieldError[] = [];
  let size = 0;
  for (const [k, v] of Object.entries(annotations)) {
    errs.push(...validateQualifiedName(k.toLowerCase(), field));
    size += k.length + (typeof v === 'string' ? v.length : 0);
  }
  if (size > TOTAL_ANNOTATION_SIZE_LIMIT) errs.push(tooLong(field, TOTAL_ANNOTATION_SIZE_LIMIT));
  return errs;
}

// ---- helpers ----

type Obj = Record<string, any>;
const isObj = (v: unknown): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
/**
 * JSON equality regardless of key order: what comparing JSON.stringify of both sides with keys
 * sorted gives (undefined, function and symbol properties absent, such array items null), without
 * building either string. `skip` leaves a key of the top-level objects out of the comparison.
 */
function deepEqual(a: unknown, b: unknown, skip?: (key: string) => boolean): boolean {
  if (a === b) return true;
  if (isObj(a)) {
    if (!isObj(b)) return false;
    let n = 0;
    for (const k in a) {
      if (!Object.prototype.hasOwnProperty.call(a, k)) continue;
      const v = a[k];
      if (!jsonWritten(v) || skip?.(k)) continue;
      n++;
      if (!Object.prototype.hasOwnProperty.call(b, k) || !jsonWritten(b[k]) || !deepEqual(v, b[k])) return false;
    }
    for (const k in b) if (Object.prototype.hasOwnProperty.call(b, k) && jsonWritten(b[k]) && !skip?.(k)) n--;
    return n === 0;
  }
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!deepEqual(jsonWritten(a[i]) ? a[i] : null, jsonWritten(b[i]) ? b[i] : null)) return false;
    return true;
  }
  if (isObj(b) || Array.isArray(b)) return false;
  return JSON.stringify(a) === JSON.stringify(b);
}
const jsonWritten = (v: unknown): boolean => v !== undefined && typeof v !== 'function' && typeof v !== 'symbol';
function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (isObj(v)) return Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical(v[k])]));
  return v;
}

function validatePort(value: unknown, field: string): FieldError[] {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 65535) {
    return [invalid(field, value, 'must be between 1 and 65535, inclusive')];
  }
  return [];
}
function validatePortNumOrName(value: unknown, field: string): FieldError[] {
  if (typeof value === 'number') return validatePort(value, field);
  if (typeof value === 'string') {
    if (value.length > 15 || !IANA_SVC_NAME.test(value) || !/[a-z]/.test(value) || value.includes('--')) {
      return [invalid(field, value, 'must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-), at most 15 characters, at least one letter, no consecutive hyphens, and must not begin or end with a hyphen')];
    }
    return [];
  }
  return [required(field)];
}
function nonNegative(value: unknown, field: string): FieldError[] {
  if (value === undefined || value === null) return [];
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) return [invalid(field, value, 'must be greater than or equal to 0')];
  return [];
}
function enumOf(value: unknown, field: string, supported: string[], requiredValue = true): FieldError[] {
  if (value === undefined || value === null || value === '') return requiredValue ? [required(field)] : [];
  return supported.includes(value as string) ? [] : [notSupported(field, value, supported)];
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
/** An IPv4 or IPv6 address in its usual text form. */
export function isIP(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  if (IPV4.test(value)) return true;
  return value.includes(':') && /^[0-9a-fA-F:.]+$/.test(value) && (value.match(/::/g)?.length ?? 0) <= 1 && value.split(':').length <= 8;
}
/** An address range such as 10.42.0.0/24 or fd00::/64. */
export function isCIDR(value: string): boolean {
  const [ip, bits, ...rest] = value.split('/');
  if (rest.length > 0 || bits === undefined || !/^\d+$/.test(bits) || !isIP(ip)) return false;
  return Number(bits) <= (ip.includes(':') ? 128 : 32);
}

function validateQuantityMap(map: unknown, field: string): FieldError[] {
  if (!isObj(map)) return [];
  const errs: FieldError[] = [];
  for (const [k, v] of Object.entries(map)) {
    if (!isQuantity(v)) errs.push(invalid(`${field}[${k}]`, v, "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"));
  }
  return errs;
}

// ---- metadata ----

type NameRule = 'subdomain' | 'label' | 'dns1035' | 'path';
function nameRuleFor(gvk: GroupVersionKind): NameRule {
  if (gvk.group === '' && gvk.kind === 'Namespace') return 'label';
  if (gvk.group === '' && gvk.kind === 'Service') return 'dns1035';
  if (gvk.group === 'rbac.authorization.k8s.io') return 'path';
  return 'subdomain';
}

function validateName(rule: NameRule, name: string, field: string): FieldError[] {
  switch (rule) {
    case 'label': return validateDNS1123Label(name, field);
    case 'dns1035': return validateDNS1035Label(name, field);
    case 'subdomain': return validateDNS1123Subdomain(name, field);
    case 'path':
      if (name === '.' || name === '..') return [invalid(field, name, `may not be '${name}'`)];
      for (const bad of ['/', '%']) if (name.includes(bad)) return [invalid(field, name, `may not contain '${bad}'`)];
      return [];
  }
}

/** ObjectMeta checks shared by every kind: name (per the kind's rule), labels, annotations, scope. */
export function validateObjectMeta(gvk: GroupVersionKind, meta: unknown, namespaced: boolean | undefined, old?: Obj): FieldError[] {
  if (!isObj(meta)) return [required('metadata')];
  const errs: FieldError[] = [];
  const rule = nameRuleFor(gvk);
  if (meta.name === undefined || meta.name === '') {
    if (!meta.generateName) errs.push(required('metadata.name', 'name or generateName is required'));
  } else if (typeof meta.name !== 'string') {
    errs.push(invalid('metadata.name', meta.name, 'must be a string'));
  } else {
    errs.push(...validateName(rule, meta.name, 'metadata.name'));
  }
  if (typeof meta.generateName === 'string' && meta.generateName !== '' && !meta.name) {
    // The prefix is checked as a name once a possible trailing '-' is dropped.
    const prefix = meta.generateName.replace(/-$/, '') || 'a';
    errs.push(...validateName(rule, prefix, 'metadata.generateName').map((e) => ({ ...e, message: e.message.replace(show(prefix), show(meta.generateName)) })));
  }
  if (namespaced === false && meta.namespace) errs.push(forbidden('metadata.namespace', 'not allowed on this type'));
  if (namespaced === true && typeof meta.namespace === 'string' && meta.namespace !== '') errs.push(...validateDNS1123Label(meta.namespace, 'metadata.namespace'));
  errs.push(...validateLabels(meta.labels, 'metadata.labels'));
  errs.push(...validateAnnotations(meta.annotations, 'metadata.annotations'));
  for (const [i, f] of arr(meta.finalizers).entries()) {
    if (typeof f !== 'string') errs.push(invalid(`metadata.finalizers[${i}]`, f, 'must be a string'));
    else errs.push(...validateQualifiedName(f, `metadata.finalizers[${i}]`));
  }
  for (const [i, o] of arr(meta.ownerReferences).entries()) {
    const f = `metadata.ownerReferences[${i}]`;
    if (!isObj(o)) { errs.push(invalid(f, o, 'must be an object')); continue; }
    if (!o.apiVersion) errs.push(invalid(`${f}.apiVersion`, o.apiVersion ?? '', 'version must not be empty'));
    if (!o.kind) errs.push(invalid(`${f}.kind`, o.kind ?? '', 'kind must not be empty'));
    if (!o.name) errs.push(invalid(`${f}.name`, o.name ?? '', 'name must not be empty'));
    if (!o.uid) errs.push(invalid(`${f}.uid`, o.uid ?? '', 'uid must not be empty'));
  }
  if (old && isObj(old.metadata)) {
    if (old.metadata.name !== undefined && meta.name !== old.metadata.name) errs.push(invalid('metadata.name', meta.name, 'field is immutable'));
    if ((old.metadata.namespace ?? '') !== (meta.namespace ?? '')) errs.push(invalid('metadata.namespace', meta.namespace ?? '', 'field is immutable'));
    if (old.metadata.uid !== undefined && meta.uid !== undefined && meta.uid !== old.metadata.uid) errs.push(invalid('metadata.uid', meta.uid, 'field is immutable'));
  }
  return errs;
}

// ---- pods ----

const RESTART_POLICIES = ['Always', 'OnFailure', 'Never'];
const DNS_POLICIES = ['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None'];
const PULL_POLICIES = ['Always', 'IfNotPresent', 'Never'];
const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];

function validateResources(res: unknown, field: string): FieldError[] {
  if (!isObj(res)) return [];
  const errs: FieldError[] = [];
  for (const kind of ['limits', 'requests']) {
    if (!isObj(res[kind])) continue;
    for (const [name, q] of Object.entries(res[kind])) {
      if (!isQuantity(q)) errs.push(invalid(`${field}.${kind}[${name}]`, q, "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"));
      else if (parseQuantity(q as string) < 0) errs.push(invalid(`${field}.${kind}[${name}]`, q, 'must be greater than or equal to 0'));
    }
  }
  if (isObj(res.limits) && isObj(res.requests)) {
    for (const [name, req] of Object.entries(res.requests)) {
      const lim = res.limits[name];
      if (lim === undefined || !isQuantity(req) || !isQuantity(lim)) continue;
      if (parseQuantity(req as string) > parseQuantity(lim as string)) {
        errs.push(invalid(`${field}.requests`, req, `must be less than or equal to ${name} limit of ${lim}`));
      }
    }
  }
  return errs;
}

function validateContainers(list: unknown, field: string, volumes: Set<string>, names: Set<string>, requireOne: boolean): FieldError[] {
  const errs: FieldError[] = [];
  if (list === undefined || list === null) return requireOne ? [required(field)] : [];
  if (!Array.isArray(list)) return [invalid(field, list, 'must be a list')];
  if (requireOne && list.length === 0) return [required(field)];
  for (const [i, c] of list.entries()) {
    const f = `${field}[${i}]`;
    if (!isObj(c)) { errs.push(invalid(f, c, 'must be an object')); continue; }
    if (!c.name) errs.push(required(`${f}.name`));
    else if (typeof c.name !== 'string') errs.push(invalid(`${f}.name`, c.name, 'must be a string'));
    else {
      errs.push(...validateDNS1123Label(c.name, `${f}.name`));
      if (names.has(c.name)) errs.push(duplicate(`${f}.name`, c.name));
      names.add(c.name);
    }
    if (!c.image || (typeof c.image === 'string' && c.image.trim() === '')) errs.push(required(`${f}.image`));
    if (c.imagePullPolicy !== undefined) errs.push(...enumOf(c.imagePullPolicy, `${f}.imagePullPolicy`, PULL_POLICIES));
    const ports = new Set<string>();
    for (const [j, p] of arr(c.ports).entries()) {
      const pf = `${f}.ports[${j}]`;
      if (!isObj(p)) { errs.push(invalid(pf, p, 'must be an object')); continue; }
      errs.push(...validatePort(p.containerPort, `${pf}.containerPort`));
      if (p.hostPort !== undefined && p.hostPort !== 0) errs.push(...validatePort(p.hostPort, `${pf}.hostPort`));
      if (p.protocol !== undefined) errs.push(...enumOf(p.protocol, `${pf}.protocol`, PROTOCOLS));
      if (p.name !== undefined && p.name !== '') {
        errs.push(...validatePortNumOrName(p.name, `${pf}.name`));
        if (ports.has(p.name)) errs.push(duplicate(`${pf}.name`, p.name));
        ports.add(p.name);
      }
    }
    for (const [j, e] of arr(c.env).entries()) {
      const ef = `${f}.env[${j}]`;
      if (!isObj(e)) continue;
      if (!e.name) errs.push(required(`${ef}.name`));
      else if (!ENV_VAR_NAME.test(e.name)) errs.push(invalid(`${ef}.name`, e.name, MSG_ENV));
      if (e.value !== undefined && e.valueFrom !== undefined && e.value !== '') errs.push(invalid(`${ef}.valueFrom`, '', 'may not be specified when `value` is not empty'));
    }
    const mountPaths = new Set<string>();
    for (const [j, m] of arr(c.volumeMounts).entries()) {
      const mf = `${f}.volumeMounts[${j}]`;
      if (!isObj(m)) continue;
      if (!m.name) errs.push(required(`${mf}.name`));
      else if (!volumes.has(m.name)) errs.push(notFound(`${mf}.name`, m.name));
      if (!m.mountPath) errs.push(required(`${mf}.mountPath`));
      else if (mountPaths.has(m.mountPath)) errs.push(invalid(`${mf}.mountPath`, m.mountPath, 'must be unique'));
      else mountPaths.add(m.mountPath);
    }
    errs.push(...validateResources(c.resources, `${f}.resources`));
  }
  return errs;
}

const VOLUME_SOURCES = ['hostPath', 'emptyDir', 'gcePersistentDisk', 'awsElasticBlockStore', 'gitRepo', 'secret', 'nfs', 'iscsi', 'glusterfs',
  'persistentVolumeClaim', 'rbd', 'flexVolume', 'cinder', 'cephfs', 'flocker', 'downwardAPI', 'fc', 'azureFile', 'configMap', 'vsphereVolume',
  'quobyte', 'azureDisk', 'photonPersistentDisk', 'projected', 'portworxVolume', 'scaleIO', 'storageos', 'csi', 'ephemeral', 'image'];

/** A PodSpec, wherever it appears; `restartPolicies` narrows the allowed policies (workloads, jobs). */
export function validatePodSpec(spec: unknown, field: string, restartPolicies = RESTART_POLICIES): FieldError[] {
  if (!isObj(spec)) return [required(field)];
  const errs: FieldError[] = [];
  const volumes = new Set<string>();
  for (const [i, v] of arr(spec.volumes).entries()) {
    const vf = `${field}.volumes[${i}]`;
    if (!isObj(v)) continue;
    if (!v.name) errs.push(required(`${vf}.name`));
    else {
      errs.push(...validateDNS1123Label(v.name, `${vf}.name`));
      if (volumes.has(v.name)) errs.push(duplicate(`${vf}.name`, v.name));
      volumes.add(v.name);
    }
    const sources = VOLUME_SOURCES.filter((s) => v[s] !== undefined && v[s] !== null);
    if (sources.length === 0) errs.push(required(vf, 'must specify a volume type'));
    else if (sources.length > 1) errs.push(forbidden(`${vf}.${sources[1]}`, `may not specify more than 1 volume type`));
    if (isObj(v.hostPath) && !v.hostPath.path) errs.push(required(`${vf}.hostPath.path`));
    if (isObj(v.persistentVolumeClaim) && !v.persistentVolumeClaim.claimName) errs.push(required(`${vf}.persistentVolumeClaim.claimName`));
  }
  const names = new Set<string>();
  errs.push(...validateContainers(spec.initContainers, `${field}.initContainers`, volumes, names, false));
  errs.push(...validateContainers(spec.containers, `${field}.containers`, volumes, names, true));
  errs.push(...enumOf(spec.restartPolicy, `${field}.restartPolicy`, restartPolicies, spec.restartPolicy !== undefined));
  if (spec.dnsPolicy !== undefined) errs.push(...enumOf(spec.dnsPolicy, `${field}.dnsPolicy`, DNS_POLICIES));
  errs.push(...nonNegative(spec.terminationGracePeriodSeconds, `${field}.terminationGracePeriodSeconds`));
  if (spec.activeDeadlineSeconds !== undefined && (typeof spec.activeDeadlineSeconds !== 'number' || spec.activeDeadlineSeconds < 1)) {
    errs.push(invalid(`${field}.activeDeadlineSeconds`, spec.activeDeadlineSeconds, 'must be between 1 and 2147483647, inclusive'));
  }
  if (spec.nodeName !== undefined && spec.nodeName !== '' && typeof spec.nodeName === 'string') errs.push(...validateDNS1123Subdomain(spec.nodeName, `${field}.nodeName`));
  errs.push(...validateLabels(spec.nodeSelector, `${field}.nodeSelector`));
  if (spec.serviceAccountName) errs.push(...validateDNS1123Subdomain(String(spec.serviceAccountName), `${field}.serviceAccountName`));
  for (const [i, t] of arr(spec.tolerations).entries()) {
    if (!isObj(t)) continue;
    if (t.operator !== undefined) errs.push(...enumOf(t.operator, `${field}.tolerations[${i}].operator`, ['Equal', 'Exists']));
    if (t.effect !== undefined && t.effect !== '') errs.push(...enumOf(t.effect, `${field}.tolerations[${i}].effect`, ['NoExecute', 'NoSchedule', 'PreferNoSchedule']));
  }
  return errs;
}

// ephemeralContainers change only through their subresource; nodeName only through binding.
const isPodMutable = (k: string): boolean => k === 'activeDeadlineSeconds' || k === 'tolerations' || k === 'ephemeralContainers';
const isPodMutableOrNodeName = (k: string): boolean => isPodMutable(k) || k === 'nodeName';
const isImage = (k: string): boolean => k === 'image';

/** Whether two pod specs are equal but for the fields a pod update may change (no copies made). */
export function podSpecSameButMutable(spec: Obj, old: Obj): boolean {
  if (spec === old) return true;
  const skip = old.nodeName ? isPodMutable : isPodMutableOrNodeName;
  if (!deepEqual(spec, old, (k) => skip(k) || k === 'containers' || k === 'initContainers')) return false;
  for (const list of ['containers', 'initContainers']) {
    const a = spec[list];
    const b = old[list];
    // Only lists have their items' images left out; anything else compares whole.
    if (!Array.isArray(a) || !Array.isArray(b)) {
      if (!deepEqual(a, b)) return false;
      continue;
    }
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) {
      const x = jsonWritten(a[i]) ? a[i] : null;
      const y = jsonWritten(b[i]) ? b[i] : null;
      if (!(isObj(x) && isObj(y) ? deepEqual(x, y, isImage) : deepEqual(x, y))) return false;
    }
  }
  return true;
}

/** The pod fields that may change on update: container images, activeDeadlineSeconds, added tolerations. */
function validatePodUpdate(spec: Obj, old: Obj): FieldError[] {
  const errs: FieldError[] = [];
  const oldTolerations = arr(old.tolerations).map((t) => JSON.stringify(canonical(t)));
  const newTolerations = new Set(arr(spec.tolerations).map((t) => JSON.stringify(canonical(t))));
  const tolerationsOK = oldTolerations.every((t) => newTolerations.has(t));
  if (!podSpecSameButMutable(spec, old) || !tolerationsOK) {
    errs.push(forbidden('spec', 'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)'));
  }
  if (typeof old.activeDeadlineSeconds === 'number' && (spec.activeDeadlineSeconds === undefined || spec.activeDeadlineSeconds > old.activeDeadlineSeconds)) {
    errs.push(invalid('spec.activeDeadlineSeconds', spec.activeDeadlineSeconds ?? null, 'must be less than or equal to previous value'));
  }
  return errs;
}

// ---- selectors and workloads ----

function validateLabelSelector(sel: unknown, field: string): FieldError[] {
  if (!isObj(sel)) return [];
  const errs = validateLabels(sel.matchLabels, `${field}.matchLabels`);
  for (const [i, e] of arr(sel.matchExpressions).entries()) {
    const ef = `${field}.matchExpressions[${i}]`;
    if (!isObj(e)) continue;
    if (!e.key) errs.push(required(`${ef}.key`));
    else errs.push(...validateQualifiedName(e.key, `${ef}.key`));
    const op = e.operator;
    errs.push(...enumOf(op, `${ef}.operator`, ['In', 'NotIn', 'Exists', 'DoesNotExist']));
    const values = arr(e.values);
    if ((op === 'In' || op === 'NotIn') && values.length === 0) errs.push(required(`${ef}.values`, 'must be specified when `operator` is \'In\' or \'NotIn\''));
    if ((op === 'Exists' || op === 'DoesNotExist') && values.length > 0) errs.push(forbidden(`${ef}.values`, 'may not be specified when `operator` is \'Exists\' or \'DoesNotExist\''));
  }
  return errs;
}

/** Whether a label selector (matchLabels + matchExpressions) selects a set of labels. */
export function selectorMatches(sel: Obj, labels: Record<string, string>): boolean {
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of arr(sel.matchExpressions)) {
    if (!isObj(e)) continue;
    const has = Object.prototype.hasOwnProperty.call(labels, e.key);
    const values = arr(e.values);
    switch (e.operator) {
      case 'In': if (!has || !values.includes(labels[e.key])) return false; break;
      case 'NotIn': if (has && values.includes(labels[e.key])) return false; break;
      case 'Exists': if (!has) return false; break;
      case 'DoesNotExist': if (has) return false; break;
      default: return false;
    }
  }
  return true;
}

function validateWorkload(kind: string, obj: Obj, old: Obj | undefined, restartPolicies: string[]): FieldError[] {
  const spec = obj.spec;
  if (!isObj(spec)) return [required('spec')];
  const errs: FieldError[] = [];
  const lower = kind.toLowerCase();
  errs.push(...nonNegative(spec.replicas, 'spec.replicas'));
  errs.push(...nonNegative(spec.minReadySeconds, 'spec.minReadySeconds'));
  errs.push(...nonNegative(spec.revisionHistoryLimit, 'spec.revisionHistoryLimit'));
  const manual = kind !== 'Job' || spec.manualSelector === true || spec.selector !== undefined;
  if (manual) {
    if (!isObj(spec.selector)) errs.push(required('spec.selector'));
    else {
      errs.push(...validateLabelSelector(spec.selector, 'spec.selector'));
      if (Object.keys(spec.selector.matchLabels ?? {}).length === 0 && arr(spec.selector.matchExpressions).length === 0) {
        errs.push(invalid('spec.selector', spec.selector, `empty selector is invalid for ${lower}`));
      }
    }
  }
  const template = spec.template;
  if (!isObj(template)) errs.push(required('spec.template'));
  else {
    const labels = isObj(template.metadata) && isObj(template.metadata.labels) ? template.metadata.labels : {};
    errs.push(...validateLabels(labels, 'spec.template.metadata.labels'));
    if (manual && isObj(spec.selector) && !selectorMatches(spec.selector, labels)) {
      errs.push(invalid('spec.template.metadata.labels', labels, '`selector` does not match template `labels`'));
    }
    errs.push(...validatePodSpec(template.spec, 'spec.template.spec', restartPolicies));
  }
  if (kind === 'Deployment' && isObj(spec.strategy) && spec.strategy.type !== undefined) {
    errs.push(...enumOf(spec.strategy.type, 'spec.strategy.type', ['Recreate', 'RollingUpdate']));
    if (spec.strategy.type === 'Recreate' && spec.strategy.rollingUpdate) errs.push(forbidden('spec.strategy.rollingUpdate', 'may not be specified when strategy `type` is \'Recreate\''));
  }
  if (old && isObj(old.spec)) {
    if (old.spec.selector !== undefined && !deepEqual(spec.selector, old.spec.selector)) errs.push(invalid('spec.selector', spec.selector ?? null, 'field is immutable'));
    if (kind === 'StatefulSet') {
      if (['serviceName', 'podManagementPolicy', 'volumeClaimTemplates', 'selector'].some((f) => !deepEqual(spec[f], old.spec[f]))) {
        errs.push(forbidden('spec', "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"));
      }
    }
  }
  return errs;
}

function validateJobSpec(spec: unknown, field: string, oldSpec?: Obj): FieldError[] {
  if (!isObj(spec)) return [required(field)];
  const errs: FieldError[] = [];
  for (const f of ['parallelism', 'completions', 'backoffLimit', 'activeDeadlineSeconds', 'ttlSecondsAfterFinished']) {
    errs.push(...nonNegative(spec[f], `${field}.${f}`));
  }
  if (!isObj(spec.template)) errs.push(required(`${field}.template`));
  else {
    errs.push(...validateLabels(spec.template.metadata?.labels, `${field}.template.metadata.labels`));
    const rp = spec.template.spec?.restartPolicy;
    if (isObj(spec.template.spec) && rp !== 'OnFailure' && rp !== 'Never') {
      errs.push(rp === undefined ? required(`${field}.template.spec.restartPolicy`) : notSupported(`${field}.template.spec.restartPolicy`, rp, ['OnFailure', 'Never']));
    }
    errs.push(...validatePodSpec(spec.template.spec, `${field}.template.spec`, ['OnFailure', 'Never']).filter((e) => !e.field.endsWith('.restartPolicy')));
  }
  if (spec.completionMode !== undefined) errs.push(...enumOf(spec.completionMode, `${field}.completionMode`, ['NonIndexed', 'Indexed']));
  errs.push(...validateJobPolicies(spec, field));
  if (oldSpec) {
    if (oldSpec.template !== undefined && !deepEqual(spec.template, oldSpec.template)) errs.push(invalid(`${field}.template`, '', 'field is immutable'));
    if (oldSpec.selector !== undefined && !deepEqual(spec.selector, oldSpec.selector)) errs.push(invalid(`${field}.selector`, spec.selector ?? null, 'field is immutable'));
    if (oldSpec.completions !== undefined && spec.completions !== oldSpec.completions) errs.push(invalid(`${field}.completions`, spec.completions ?? null, 'field is immutable'));
  }
  return errs;
}

const MAX_FAILURE_POLICY_RULES = 20;
const MAX_EXIT_CODE_VALUES = 255;
const MAX_POD_CONDITION_PATTERNS = 20;
const MAX_SUCCESS_POLICY_RULES = 20;

/** podFailurePolicy, successPolicy and podReplacementPolicy, with upstream's limits and messages. */
function validateJobPolicies(spec: Obj, field: string): FieldError[] {
  const errs: FieldError[] = [];
  const indexed = spec.completionMode === 'Indexed';
  const pfp = spec.podFailurePolicy;
  if (isObj(pfp)) {
    const rulesField = `${field}.podFailurePolicy.rules`;
    const rules = arr(pfp.rules);
    if (rules.length > MAX_FAILURE_POLICY_RULES) errs.push(tooMany(rulesField, rules.length, MAX_FAILURE_POLICY_RULES));
    const podSpec = isObj(spec.template) && isObj(spec.template.spec) ? spec.template.spec : {};
    const containerNames = new Set([...arr(podSpec.containers), ...arr(podSpec.initContainers)].map((c) => (isObj(c) ? c.name : undefined)));
    rules.forEach((rule, i) => {
      const rf = `${rulesField}[${i}]`;
      if (!isObj(rule)) { errs.push(required(rf)); return; }
      if (rule.action === undefined || rule.action === '') errs.push(required(`${rf}.action`, 'valid values: ["Count" "FailIndex" "FailJob" "Ignore"]'));
      else if (rule.action === 'FailIndex') {
        if (spec.backoffLimitPerIndex === undefined || spec.backoffLimitPerIndex === null) errs.push(invalid(`${rf}.action`, rule.action, 'requires the backoffLimitPerIndex to be set'));
      } else errs.push(...enumOf(rule.action, `${rf}.action`, ['Count', 'FailIndex', 'FailJob', 'Ignore']));
      const onExit = rule.onExitCodes;
      const onConds = arr(rule.onPodConditions);
      if (isObj(onExit)) {
        const ef = `${rf}.onExitCodes`;
        if (onExit.operator === undefined || onExit.operator === '') errs.push(required(`${ef}.operator`, 'valid values: ["In" "NotIn"]'));
        else errs.push(...enumOf(onExit.operator, `${ef}.operator`, ['In', 'NotIn']));
        if (onExit.containerName !== undefined && onExit.containerName !== null && !containerNames.has(onExit.containerName)) {
          errs.push(invalid(`${ef}.containerName`, onExit.containerName, 'must be one of the container or initContainer names in the pod template'));
        }
        const values = arr(onExit.values);
        if (values.length === 0) errs.push(invalid(`${ef}.values`, values, 'at least one value is required'));
        else if (values.length > MAX_EXIT_CODE_VALUES) errs.push(tooMany(`${ef}.values`, values.length, MAX_EXIT_CODE_VALUES));
        const seen = new Set<unknown>();
        let ordered = true;
        values.forEach((v, j) => {
          if (onExit.operator === 'In' && v === 0) errs.push(invalid(`${ef}.values[${j}]`, v, 'must not be 0 for the In operator'));
          if (seen.has(v)) errs.push(duplicate(`${ef}.values[${j}]`, v)); else seen.add(v);
          if (j > 0 && (values[j - 1] as number) > (v as number)) ordered = false;
        });
        if (!ordered) errs.push(invalid(`${ef}.values`, values, 'must be ordered'));
      }
      if (onConds.length > MAX_POD_CONDITION_PATTERNS) errs.push(tooMany(`${rf}.onPodConditions`, onConds.length, MAX_POD_CONDITION_PATTERNS));
      onConds.forEach((c, j) => {
        const cf = `${rf}.onPodConditions[${j}]`;
        if (!isObj(c)) { errs.push(required(cf)); return; }
        errs.push(...validateQualifiedName(typeof c.type === 'string' ? c.type : '', `${cf}.type`));
        if (c.status === undefined || c.status === '') errs.push(required(`${cf}.status`, 'valid values: ["False" "True" "Unknown"]'));
        else errs.push(...enumOf(c.status, `${cf}.status`, ['False', 'True', 'Unknown']));
      });
      if (isObj(onExit) && onConds.length > 0) errs.push(invalidRule(rf, 'specifying both OnExitCodes and OnPodConditions is not supported'));
      if (!isObj(onExit) && onConds.length === 0) errs.push(invalidRule(rf, 'specifying one of OnExitCodes and OnPodConditions is required'));
    });
    const rp = isObj(spec.template) && isObj(spec.template.spec) ? spec.template.spec.restartPolicy : undefined;
    if (rp === 'OnFailure') errs.push(invalid(`${field}.template.spec.restartPolicy`, rp, 'only "Never" is supported when podFailurePolicy is specified'));
  }
  if (spec.successPolicy !== undefined && spec.successPolicy !== null) {
    const sf = `${field}.successPolicy`;
    if (!indexed) errs.push(invalid(sf, spec.successPolicy, 'requires indexed completion mode'));
    else {
      const rules = arr(spec.successPolicy?.rules);
      if (rules.length === 0) errs.push(required(`${sf}.rules`, 'at least one rules must be specified when the successPolicy is specified'));
      if (rules.length > MAX_SUCCESS_POLICY_RULES) errs.push(tooMany(`${sf}.rules`, rules.length, MAX_SUCCESS_POLICY_RULES));
      const completions = typeof spec.completions === 'number' ? spec.completions : 0;
      rules.forEach((rule, i) => {
        const rf = `${sf}.rules[${i}]`;
        if (!isObj(rule) || (rule.succeededCount === undefined && rule.succeededIndexes === undefined)) {
          errs.push(required(rf, 'at least one of succeededCount or succeededIndexes must be specified'));
          return;
        }
        let total = 0;
        if (rule.succeededIndexes !== undefined) {
          const parsed = countIndexes(String(rule.succeededIndexes), completions);
          if (typeof parsed === 'string') errs.push(invalid(`${rf}.succeededIndexes`, rule.succeededIndexes, `error parsing succeededIndexes: ${parsed}`));
          else total = parsed;
        }
        if (rule.succeededCount !== undefined) {
          const cf = `${rf}.succeededCount`;
          errs.push(...nonNegative(rule.succeededCount, cf));
          if (rule.succeededCount > completions) errs.push(invalid(cf, rule.succeededCount, `must be less than or equal to ${completions} (the number of specified completions)`));
          if (rule.succeededIndexes !== undefined && rule.succeededCount > total) errs.push(invalid(cf, rule.succeededCount, `must be less than or equal to ${total} (the number of indexes in the specified succeededIndexes field)`));
        }
      });
    }
  }
  if (spec.podReplacementPolicy !== undefined && spec.podReplacementPolicy !== null) {
    errs.push(...enumOf(spec.podReplacementPolicy, `${field}.podReplacementPolicy`, isObj(pfp) ? ['Failed'] : ['Failed', 'TerminatingOrFailed']));
  }
  return errs;
}

/** The number of indexes in "1,3-5,7" (ordered, non-overlapping, each below completions), or why it is malformed. */
function countIndexes(text: string, completions: number): number | string {
  let total = 0;
  let previous = -1;
  for (const part of text.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) return `cannot convert string to integer for index: ${JSON.stringify(part)}`;
    const first = Number(m[1]);
    const last = m[2] === undefined ? first : Number(m[2]);
    if (last >= completions) return `too large index: ${last}`;
    if (first > last) return `first index is greater than the last index: ${first} > ${last}`;
    if (first <= previous) return `non-increasing order, previous: ${previous}, current: ${first}`;
    total += last - first + 1;
    previous = last;
  }
  return total;
}

/** DaemonSet RollingUpdate: exactly one of maxUnavailable and maxSurge may be non-zero. */
function validateDaemonSetUpdate(obj: Obj): FieldError[] {
  const us = obj.spec?.updateStrategy;
  if (!isObj(us)) return [];
  const errs: FieldError[] = [];
  if (us.type !== undefined) errs.push(...enumOf(us.type, 'spec.updateStrategy.type', ['OnDelete', 'RollingUpdate']));
  const ru = us.rollingUpdate;
  if (us.type !== 'RollingUpdate' || !isObj(ru)) return errs;
  const f = 'spec.updateStrategy.rollingUpdate';
  const nonZero = (v: unknown): boolean => v !== undefined && v !== null && v !== 0 && v !== '0' && v !== '0%';
  for (const k of ['maxUnavailable', 'maxSurge']) {
    const v = ru[k];
    if (typeof v === 'number' && v < 0) errs.push(invalid(`${f}.${k}`, v, 'must be greater than or equal to 0'));
    if (typeof v === 'string' && /^\d+%$/.test(v) && Number(v.slice(0, -1)) > 100) errs.push(invalid(`${f}.${k}`, v, 'must not be greater than 100%'));
  }
  if (nonZero(ru.maxUnavailable) && nonZero(ru.maxSurge)) errs.push(invalid(`${f}.maxSurge`, ru.maxSurge, 'may not be set when maxUnavailable is non-zero'));
  else if (!nonZero(ru.maxUnavailable) && !nonZero(ru.maxSurge)) errs.push(required(`${f}.maxUnavailable`, 'cannot be 0 when maxSurge is 0'));
  return errs;
}

const CRON_MACROS = ['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly'];
const CRON_RANGES: Array<[number, number]> = [[0, 59], [0, 23], [1, 31], [1, 12], [0, 7]];
const CRON_NAMES = [undefined, undefined, undefined, ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'], ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat']];

/** Whether a schedule is a standard 5-field cron expression or a macro (@hourly, @every 1h, ...). */
export function isValidCronSchedule(schedule: string): boolean {
  let s = schedule.trim();
  if (/^(CRON_)?TZ=/.test(s)) return false; // time zones go in spec.timeZone
  if (CRON_MACROS.includes(s)) return true;
  if (/^@every \d+(\.\d+)?(ns|us|µs|ms|s|m|h)(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))*$/.test(s)) return true;
  s = s.replace(/\s+/g, ' ');
  const fields = s.split(' ');
  if (fields.length !== 5) return false;
  return fields.every((f, i) => f.split(',').every((part) => {
    const [range, step] = part.split('/');
    if (step !== undefined && !/^\d+$/.test(step)) return false;
    if (range === '*' || range === '?') return true;
    const names = CRON_NAMES[i];
    const num = (x: string) => (names && names.includes(x.toLowerCase()) ? names.indexOf(x.toLowerCase()) + (i === 3 ? 1 : 0) : /^\d+$/.test(x) ? Number(x) : NaN);
    const [a, b] = range.split('-');
    const lo = num(a);
    const hi = b === undefined ? lo : num(b);
    const [min, max] = CRON_RANGES[i];
    return Number.isInteger(lo) && Number.isInteger(hi) && lo >= min && hi <= max && lo <= hi;
  }));
}

// ---- services ----

const SERVICE_TYPES = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];

function validateService(obj: Obj, old?: Obj): FieldError[] {
  const spec = obj.spec;
  if (!isObj(spec)) return [required('spec')];
  const errs: FieldError[] = [];
  const type = spec.type ?? 'ClusterIP';
  errs.push(...enumOf(type, 'spec.type', SERVICE_TYPES));
  if (type === 'ExternalName') {
    if (!spec.externalName) errs.push(required('spec.externalName'));
    else errs.push(...validateDNS1123Subdomain(String(spec.externalName).replace(/\.$/, ''), 'spec.externalName'));
  }
  const ports = arr(spec.ports);
  const headless = spec.clusterIP === 'None';
  if (ports.length === 0 && type !== 'ExternalName' && !headless) errs.push(required('spec.ports'));
  const names = new Set<string>();
  const keys = new Set<string>();
  for (const [i, p] of ports.entries()) {
    const f = `spec.ports[${i}]`;
    if (!isObj(p)) { errs.push(invalid(f, p, 'must be an object')); continue; }
    if (ports.length > 1 && !p.name) errs.push(required(`${f}.name`));
    if (p.name) {
      errs.push(...validateDNS1123Label(String(p.name), `${f}.name`));
      if (names.has(p.name)) errs.push(duplicate(`${f}.name`, p.name));
      names.add(p.name);
    }
    errs.push(...validatePort(p.port, `${f}.port`));
    if (p.protocol !== undefined) errs.push(...enumOf(p.protocol, `${f}.protocol`, PROTOCOLS));
    const key = `${p.port}/${p.protocol ?? 'TCP'}`;
    if (keys.has(key)) errs.push(duplicate(f, { port: p.port, protocol: p.protocol ?? 'TCP' }));
    keys.add(key);
    if (p.targetPort !== undefined && p.targetPort !== 0) errs.push(...validatePortNumOrName(p.targetPort, `${f}.targetPort`));
    if (p.nodePort !== undefined && p.nodePort !== 0) {
      if (type === 'ClusterIP' || type === 'ExternalName') errs.push(forbidden(`${f}.nodePort`, 'may not be used when `type` is \'ClusterIP\''));
      else errs.push(...validatePort(p.nodePort, `${f}.nodePort`));
    }
  }
  if (spec.sessionAffinity !== undefined) errs.push(...enumOf(spec.sessionAffinity, 'spec.sessionAffinity', ['ClientIP', 'None']));
  if (isObj(spec.selector)) errs.push(...validateLabels(spec.selector, 'spec.selector'));
  if (old && isObj(old.spec) && old.spec.type !== 'ExternalName' && type !== 'ExternalName') {
    if (old.spec.clusterIP && spec.clusterIP !== undefined && spec.clusterIP !== '' && spec.clusterIP !== old.spec.clusterIP) {
      errs.push(invalid('spec.clusterIP', spec.clusterIP, 'field is immutable'));
    }
  }
  return errs;
}

// ---- config ----

function validateConfigData(obj: Obj, old: Obj | undefined, kind: 'ConfigMap' | 'Secret'): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  let size = 0;
  const maps = kind === 'ConfigMap' ? ['data', 'binaryData'] : ['data'];
  for (const m of maps) {
    if (obj[m] === undefined || obj[m] === null) continue;
    if (!isObj(obj[m])) { errs.push(invalid(m, obj[m], 'must be a map')); continue; }
    for (const [k, v] of Object.entries(obj[m])) {
      if (!CONFIG_KEY.test(k) || k.length > 253) errs.push(invalid(`${m}[${k}]`, k, MSG_CONFIG_KEY));
      if (seen.has(k)) errs.push(duplicate(`${m}[${k}]`, k));
      seen.add(k);
      if (typeof v !== 'string') { errs.push(invalid(`${m}[${k}]`, v, 'must be a string')); continue; }
      if (m === 'binaryData' || kind === 'Secret') {
        if (!/^[A-Za-z0-9+/]*={0,2}$/.test(v) || v.length % 4 === 1) errs.push(invalid(`${m}[${k}]`, '<value omitted>', 'illegal base64 data'));
        size += Math.floor(v.length * 3 / 4);
      } else {
        size += Buffer.byteLength(v);
      }
    }
  }
  if (size > 1024 * 1024) errs.push({ type: 'FieldValueTooLong', field: kind === 'ConfigMap' ? '' : 'data', message: `Too long: must have at most ${1024 * 1024} bytes` });
  if (old && old.immutable === true) {
    if (obj.immutable !== true) errs.push(forbidden('immutable', 'field is immutable when `immutable` is set'));
    for (const m of maps) if (!deepEqual(obj[m] ?? {}, old[m] ?? {})) errs.push(forbidden(m, 'field is immutable when `immutable` is set'));
  }
  if (kind === 'Secret' && old && (old.type ?? 'Opaque') !== (obj.type ?? 'Opaque')) errs.push(invalid('type', obj.type ?? '', 'field is immutable'));
  return errs;
}

// ---- the entry point ----

/**
 * The validation errors of a built-in object on create (old undefined) or update (old is the
 * stored object). Expects defaults applied. The caller checks that metadata.namespace matches
 * the request's namespace (it knows the URL); nodeName changes go through pods/binding.
 */
export function validateObject(gvk: GroupVersionKind, obj: Record<string, any>, old?: Record<string, any>): FieldError[] {
  if (!isObj(obj)) return [invalid('', obj, 'must be an object')];
  const info = resourceForKind(gvk);
  const errs = validateObjectMeta(gvk, obj.metadata, info?.namespaced, old);
  const key = `${gvk.group}/${gvk.kind}`;
  switch (key) {
    case '/Pod':
      // A status write keeps the stored spec itself (the same object): it was validated when stored.
      if (old && obj.spec === old.spec && isObj(obj.spec)) break;
      errs.push(...validatePodSpec(obj.spec, 'spec'));
      if (old && isObj(old.spec) && isObj(obj.spec)) errs.push(...validatePodUpdate(obj.spec, old.spec));
      break;
    case '/Service': errs.push(...validateService(obj, old)); break;
    case '/ConfigMap': errs.push(...validateConfigData(obj, old, 'ConfigMap')); break;
    case '/Secret': errs.push(...validateConfigData(obj, old, 'Secret')); break;
    case '/Namespace':
      for (const [i, f] of arr(obj.spec?.finalizers).entries()) if (typeof f === 'string') errs.push(...validateQualifiedName(f, `spec.finalizers[${i}]`));
      break;
    case '/ServiceAccount': break;
    case '/Endpoints':
      for (const [i, subset] of arr(obj.subsets).entries()) {
        if (!isObj(subset)) continue;
        for (const list of ['addresses', 'notReadyAddresses']) {
          for (const [j, a] of arr(subset[list]).entries()) {
            const af = `subsets[${i}].${list}[${j}].ip`;
            if (!isObj(a) || !a.ip) errs.push(required(af));
            else if (!isIP(a.ip)) errs.push(invalid(af, a.ip, 'must be a valid IP address'));
          }
        }
        for (const [j, p] of arr(subset.ports).entries()) {
          if (!isObj(p)) continue;
          errs.push(...validatePort(p.port, `subsets[${i}].ports[${j}].port`));
          if (p.protocol !== undefined) errs.push(...enumOf(p.protocol, `subsets[${i}].ports[${j}].protocol`, PROTOCOLS));
        }
      }
      break;
    case '/LimitRange':
      for (const [i, l] of arr(obj.spec?.limits).entries()) {
        if (!isObj(l)) continue;
        errs.push(...enumOf(l.type, `spec.limits[${i}].type`, ['Container', 'Pod', 'PersistentVolumeClaim']));
        for (const k of ['max', 'min', 'default', 'defaultRequest', 'maxLimitRequestRatio']) errs.push(...validateQuantityMap(l[k], `spec.limits[${i}].${k}`));
      }
      break;
    case '/ResourceQuota':
      errs.push(...validateQuantityMap(obj.spec?.hard, 'spec.hard'));
      break;
    case '/Node': {
      const spec = isObj(obj.spec) ? obj.spec : {};
      for (const [i, t] of arr(spec.taints).entries()) {
        if (!isObj(t)) continue;
        if (!t.key) errs.push(required(`spec.taints[${i}].key`));
        else errs.push(...validateQualifiedName(t.key, `spec.taints[${i}].key`));
        errs.push(...enumOf(t.effect, `spec.taints[${i}].effect`, ['NoExecute', 'NoSchedule', 'PreferNoSchedule']));
      }
      for (const [i, c] of [spec.podCIDR, ...arr(spec.podCIDRs)].filter((x) => x !== undefined && x !== '').entries()) {
        if (typeof c !== 'string' || !isCIDR(c)) errs.push(invalid(i === 0 && spec.podCIDR ? 'spec.podCIDR' : 'spec.podCIDRs', c, 'must be a valid CIDR'));
      }
      break;
    }
    case '/PersistentVolumeClaim': {
      const spec = obj.spec;
      if (!isObj(spec)) { errs.push(required('spec')); break; }
      if (arr(spec.accessModes).length === 0) errs.push(required('spec.accessModes'));
      for (const [i, m] of arr(spec.accessModes).entries()) errs.push(...enumOf(m, `spec.accessModes[${i}]`, ['ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOnce', 'ReadWriteOncePod']));
      const storage = spec.resources?.requests?.storage;
      if (storage === undefined && !spec.dataSource) errs.push(required('spec.resources[storage]'));
      else if (storage !== undefined && !isQuantity(storage)) errs.push(invalid('spec.resources[storage]', storage, "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"));
      if (old && isObj(old.spec)) {
        // Only the requested size (and the attributes class) may change after creation.
        // Binding sets volumeName once, on a claim that had none.
        const bindable = !old.spec.volumeName;
        // A claim made without a class may get one later (the default class, assigned retroactively).
        const classless = old.spec.storageClassName === undefined || old.spec.storageClassName === null;
        const strip = (x: Obj) => {
          const c = structuredClone(x);
          delete c.resources?.requests; delete c.volumeAttributesClassName;
          if (bindable) delete c.volumeName;
          if (classless) delete c.storageClassName;
          return c;
        };
        if (!deepEqual(strip(spec), strip(old.spec))) {
          errs.push(forbidden('spec', 'spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims'));
        }
      }
      break;
    }
    case '/PersistentVolume': {
      const spec = obj.spec;
      if (!isObj(spec)) { errs.push(required('spec')); break; }
      if (arr(spec.accessModes).length === 0) errs.push(required('spec.accessModes'));
      if (spec.capacity?.storage === undefined) errs.push(required('spec.capacity'));
      break;
    }
    case 'apps/Deployment': errs.push(...validateWorkload('Deployment', obj, old, ['Always'])); break;
    case 'apps/ReplicaSet': errs.push(...validateWorkload('ReplicaSet', obj, old, ['Always'])); break;
    case 'apps/StatefulSet': errs.push(...validateWorkload('StatefulSet', obj, old, ['Always'])); break;
    case 'apps/DaemonSet': errs.push(...validateWorkload('DaemonSet', obj, old, ['Always']), ...validateDaemonSetUpdate(obj)); break;
    case 'batch/Job':
      errs.push(...validateJobSpec(obj.spec, 'spec', old?.spec));
      if (isObj(obj.spec?.selector)) errs.push(...validateLabelSelector(obj.spec.selector, 'spec.selector'));
      break;
    case 'batch/CronJob': {
      const spec = obj.spec;
      if (!isObj(spec)) { errs.push(required('spec')); break; }
      if (!spec.schedule) errs.push(required('spec.schedule'));
      else if (typeof spec.schedule !== 'string' || !isValidCronSchedule(spec.schedule)) errs.push(invalid('spec.schedule', spec.schedule, 'unparseable cron expression'));
      if (spec.concurrencyPolicy !== undefined) errs.push(...enumOf(spec.concurrencyPolicy, 'spec.concurrencyPolicy', ['Allow', 'Forbid', 'Replace']));
      if (typeof obj.metadata?.name === 'string' && obj.metadata.name.length > 52) errs.push(invalid('metadata.name', obj.metadata.name, 'must be no more than 52 characters'));
      if (!isObj(spec.jobTemplate)) errs.push(required('spec.jobTemplate'));
      else errs.push(...validateJobSpec(spec.jobTemplate.spec, 'spec.jobTemplate.spec'));
      break;
    }
    case 'policy/PodDisruptionBudget':
      if (isObj(obj.spec) && obj.spec.minAvailable !== undefined && obj.spec.maxUnavailable !== undefined) {
        errs.push(invalid('spec', obj.spec, 'minAvailable and maxUnavailable cannot be both set'));
      }
      if (isObj(obj.spec?.selector)) errs.push(...validateLabelSelector(obj.spec.selector, 'spec.selector'));
      break;
    case 'rbac.authorization.k8s.io/RoleBinding':
    case 'rbac.authorization.k8s.io/ClusterRoleBinding': {
      const ref = obj.roleRef;
      if (!isObj(ref)) errs.push(required('roleRef'));
      else {
        if (!ref.name) errs.push(required('roleRef.name'));
        errs.push(...enumOf(ref.kind, 'roleRef.kind', gvk.kind === 'RoleBinding' ? ['Role', 'ClusterRole'] : ['ClusterRole']));
        if (ref.apiGroup !== 'rbac.authorization.k8s.io') errs.push(notSupported('roleRef.apiGroup', ref.apiGroup ?? '', ['rbac.authorization.k8s.io']));
      }
      for (const [i, s] of arr(obj.subjects).entries()) {
        if (!isObj(s)) continue;
        errs.push(...enumOf(s.kind, `subjects[${i}].kind`, ['ServiceAccount', 'User', 'Group']));
        if (!s.name) errs.push(required(`subjects[${i}].name`));
      }
      if (old && !deepEqual(old.roleRef, obj.roleRef)) errs.push(invalid('roleRef', obj.roleRef ?? null, 'cannot change roleRef'));
      break;
    }
    case 'rbac.authorization.k8s.io/Role':
    case 'rbac.authorization.k8s.io/ClusterRole':
      for (const [i, r] of arr(obj.rules).entries()) {
        if (!isObj(r)) continue;
        if (arr(r.verbs).length === 0) errs.push(required(`rules[${i}].verbs`, 'verbs must contain at least one value'));
        if (arr(r.nonResourceURLs).length === 0 && arr(r.resources).length === 0 && gvk.kind === 'Role') errs.push(required(`rules[${i}].resources`, 'resource rules must supply at least one resource'));
      }
      break;
    case 'apiextensions.k8s.io/CustomResourceDefinition':
      errs.push(...validateCRD(obj, old));
      break;
    case 'coordination.k8s.io/Lease':
      errs.push(...nonNegative(obj.spec?.leaseDurationSeconds, 'spec.leaseDurationSeconds'));
      break;
    case 'discovery.k8s.io/EndpointSlice':
      if (!obj.addressType) errs.push(required('addressType'));
      else errs.push(...enumOf(obj.addressType, 'addressType', ['IPv4', 'IPv6', 'FQDN']));
      if (old && old.addressType !== obj.addressType) errs.push(invalid('addressType', obj.addressType, 'field is immutable'));
      break;
    case 'storage.k8s.io/StorageClass':
      if (!obj.provisioner) errs.push(required('provisioner'));
      if (old && obj.provisioner !== old.provisioner) errs.push(forbidden('provisioner', 'updates to provisioner are forbidden.'));
      if (old && !deepEqual(obj.parameters, old.parameters)) errs.push(forbidden('parameters', 'updates to parameters are forbidden.'));
      break;
    case 'networking.k8s.io/NetworkPolicy':
      for (const [i, t] of arr(obj.spec?.policyTypes).entries()) errs.push(...enumOf(t, `spec.policyTypes[${i}]`, ['Egress', 'Ingress']));
      if (isObj(obj.spec?.podSelector)) errs.push(...validateLabelSelector(obj.spec.podSelector, 'spec.podSelector'));
      break;
    case 'networking.k8s.io/Ingress':
      for (const [i, r] of arr(obj.spec?.rules).entries()) {
        const host = (r as Obj | undefined)?.host;
        if (typeof host === 'string' && host !== '' && validateDNS1123Subdomain(host.replace(/^\*\./, ''), 'x').length > 0) {
          errs.push(invalid(`spec.rules[${i}].host`, host, MSG_SUBDOMAIN));
        }
      }
      for (const [i, r] of arr(obj.spec?.rules).entries()) {
        for (const [j, p] of arr((r as Obj | undefined)?.http?.paths).entries()) {
          errs.push(...enumOf((p as Obj | undefined)?.pathType, `spec.rules[${i}].http.paths[${j}].pathType`, ['Exact', 'ImplementationSpecific', 'Prefix']));
        }
      }
      break;
    case 'settings.k8s.io/PodPreset':
      if (isObj(obj.spec?.selector)) errs.push(...validateLabelSelector(obj.spec.selector, 'spec.selector'));
      break;
    default: break;
  }
  return errs;
}

function validateCRD(obj: Obj, old?: Obj): FieldError[] {
  const spec = obj.spec;
  if (!isObj(spec)) return [required('spec')];
  const errs: FieldError[] = [];
  const names = isObj(spec.names) ? spec.names : {};
  if (!spec.group) errs.push(required('spec.group'));
  else if (!String(spec.group).includes('.')) errs.push(invalid('spec.group', spec.group, 'should be a domain with at least one dot'));
  if (!names.plural) errs.push(required('spec.names.plural'));
  else errs.push(...validateDNS1123Label(names.plural, 'spec.names.plural'));
  if (!names.kind) errs.push(required('spec.names.kind'));
  if (names.singular) errs.push(...validateDNS1123Label(names.singular, 'spec.names.singular'));
  if (names.plural && spec.group && obj.metadata?.name !== `${names.plural}.${spec.group}`) {
    errs.push(invalid('metadata.name', obj.metadata?.name ?? '', 'must be spec.names.plural+"."+spec.group'));
  }
  errs.push(...enumOf(spec.scope, 'spec.scope', ['Cluster', 'Namespaced']));
  const versions = arr(spec.versions);
  if (versions.length === 0) errs.push(invalid('spec.versions', versions, 'must have exactly one version marked as storage version'));
  else {
    if (versions.filter((v) => isObj(v) && v.storage === true).length !== 1) errs.push(invalid('spec.versions', versions.map((v) => (isObj(v) ? v.name : v)), 'must have exactly one version marked as storage version'));
    const seen = new Set<string>();
    for (const [i, v] of versions.entries()) {
      if (!isObj(v)) continue;
      if (!v.name) errs.push(required(`spec.versions[${i}].name`));
      else {
        errs.push(...validateDNS1035Label(v.name, `spec.versions[${i}].name`));
        if (seen.has(v.name)) errs.push(duplicate(`spec.versions[${i}].name`, v.name));
        seen.add(v.name);
      }
      const schema = v.schema?.openAPIV3Schema;
      if (!isObj(schema)) errs.push(required(`spec.versions[${i}].schema.openAPIV3Schema`, 'schemas are required'));
      else if (schema.type !== 'object' && schema['x-kubernetes-preserve-unknown-fields'] !== true) {
        errs.push(invalid(`spec.versions[${i}].schema.openAPIV3Schema.type`, schema.type ?? '', 'must be object at the root'));
      }
    }
  }
  if (old && isObj(old.spec)) {
    if (old.spec.group !== spec.group) errs.push(invalid('spec.group', spec.group, 'field is immutable'));
    if (old.spec.scope !== spec.scope) errs.push(invalid('spec.scope', spec.scope, 'field is immutable'));
    if (old.spec.names?.plural !== names.plural) errs.push(invalid('spec.names.plural', names.plural, 'field is immutable'));
  }
  return errs;
}

// ---- strict decoding ----

function joinPath(base: string, key: string): string {
  return base ? `${base}.${key}` : key;
}

// Each schema is resolved and looked at once (its plan), not on every request: properties,
// items and additionalProperties are read from the plan, and a path is built only for a field
// that is reported.
interface UnknownPlan {
  /** Free-form (preserve-unknown-fields, well-known protobuf types) or no schema: nothing to report. */
  skip: boolean;
  properties: Record<string, SchemaObject> | undefined;
  items: SchemaObject | undefined;
  additional: SchemaObject | undefined;
}
const SKIP_PLAN: UnknownPlan = { skip: true, properties: undefined, items: undefined, additional: undefined };
const unknownPlans = new WeakMap<object, UnknownPlan>();

function unknownPlan(schema: SchemaObject | undefined, defs: Record<string, SchemaObject>): UnknownPlan {
  if (!schema) return SKIP_PLAN;
  // Schemas are objects; anything else (a boolean schema, say) is planned each time, uncached.
  const cacheable = typeof schema === 'object' || typeof schema === 'function';
  let plan = cacheable ? unknownPlans.get(schema) : undefined;
  if (!plan) {
    const s = resolveSchema(schema, defs);
    plan = s['x-kubernetes-preserve-unknown-fields'] || s['x-orch-protobuf']?.wellKnown ? SKIP_PLAN : {
      skip: false,
      properties: s.properties,
      items: s.items || undefined,
      additional: typeof s.additionalProperties === 'object' ? s.additionalProperties ?? undefined : undefined,
    };
    if (cacheable) unknownPlans.set(schema, plan);
  }
  return plan;
}

// The path of the value being walked: property names, and [i] / [key] elements (bracket true).
interface WalkPath { parts: Array<string | number>; bracket: boolean[] }

function pathOf(p: WalkPath, last: string): string {
  let s = '';
  for (let i = 0; i < p.parts.length; i++) s = p.bracket[i] ? `${s}[${p.parts[i]}]` : joinPath(s, String(p.parts[i]));
  return joinPath(s, last);
}

function unknownIn(plan: UnknownPlan, value: unknown, path: WalkPath, out: string[], defs: Record<string, SchemaObject>, depth: number): void {
  if (plan.skip || depth > 64) return;
  if (Array.isArray(value)) {
    if (plan.items) {
      const items = unknownPlan(plan.items, defs);
      if (items.skip) return;
      for (let i = 0; i < value.length; i++) {
        path.parts.push(i); path.bracket.push(true);
        unknownIn(items, value[i], path, out, defs, depth + 1);
        path.parts.pop(); path.bracket.pop();
      }
    }
    return;
  }
  if (!isObj(value)) return;
  const props = plan.properties;
  if (props) {
    for (const k of Object.keys(value)) {
      const p = props[k];
      if (!p) { out.push(pathOf(path, k)); continue; }
      const child = unknownPlan(p, defs);
      if (child.skip) continue;
      path.parts.push(k); path.bracket.push(false);
      unknownIn(child, value[k], path, out, defs, depth + 1);
      path.parts.pop(); path.bracket.pop();
    }
  } else if (plan.additional) {
    const child = unknownPlan(plan.additional, defs);
    if (child.skip) return;
    for (const k of Object.keys(value)) {
      path.parts.push(k); path.bracket.push(true);
      unknownIn(child, value[k], path, out, defs, depth + 1);
      path.parts.pop(); path.bracket.pop();
    }
  }
}

/**
 * The fields of an object its kind's schema does not know, as paths ('spec.foo',
 * 'spec.containers[0].bogus'), for `fieldValidation=Strict` ("unknown field \"spec.foo\"") and
 * `Warn`. Free-form parts (RawExtension, preserve-unknown-fields) are not walked.
 */
export function unknownFields(gvk: GroupVersionKind, obj: unknown): string[] {
  const schema = schemaForKind(gvk);
  if (!schema) return [];
  return unknownFieldsBySchema(schema, obj);
}

/** unknownFields against a given schema (a custom resource's openAPIV3Schema, a subresource kind). */
export function unknownFieldsBySchema(schema: SchemaObject, obj: unknown): string[] {
  const out: string[] = [];
  const defs = getDefinitions();
  let plan = rootPlans.get(schema);
  if (!plan) { plan = unknownPlan(rootSchema(schema, defs), defs); rootPlans.set(schema, plan); }
  unknownIn(plan, obj, { parts: [], bracket: [] }, out, defs, 0);
  return out;
}

// The plan of a kind's root schema, which always knows apiVersion, kind and metadata.
const rootPlans = new WeakMap<SchemaObject, UnknownPlan>();

function rootSchema(schema: SchemaObject, defs: Record<string, SchemaObject>): SchemaObject {
  const root = resolveSchema(schema, defs);
  // A CRD's schema need not declare apiVersion, kind and metadata; every object has them.
  const declared = root.properties ?? {};
  const withMeta: SchemaObject = root.properties ? {
    ...root,
    properties: {
      apiVersion: { type: 'string' }, kind: { type: 'string' },
      metadata: { $ref: '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta' },
      ...declared,
    },
  } : root;
  return withMeta;
}

// ---- custom resources: structural schema validation and pruning ----

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

/**
 * Validates a value against a CRD's openAPIV3Schema (type, nullable, required, enum, pattern,
 * minimum/maximum, lengths, item counts, uniqueItems, properties, additionalProperties, items,
 * allOf/anyOf/oneOf/not, x-kubernetes-int-or-string), with upstream's messages. `path` is the
 * field path of value ('' at the root, where apiVersion/kind/metadata are the server's business).
 */
export function validateAgainstSchema(schema: SchemaObject | undefined, value: unknown, path: string): FieldError[] {
  if (!schema) return [];
  const errs: FieldError[] = [];
  const where = path || '<root>';
  if (value === null) {
    if (schema.nullable || schema.type === undefined && !schema['x-kubernetes-int-or-string']) return [];
    return [invalid(where, 'null', `${where} in body must be of type ${schema.type ?? 'object'}: "null"`)];
  }
  const actual = typeOf(value);
  if (schema['x-kubernetes-int-or-string']) {
    if (actual !== 'integer' && actual !== 'string') errs.push(invalid(where, value, `${where} in body must be of type integer,string: "${actual}"`));
  } else if (schema.type) {
    const ok = schema.type === actual || (schema.type === 'number' && actual === 'integer');
    if (!ok) return [invalid(where, value, `${where} in body must be of type ${schema.type}: "${actual}"`)];
  }
  if (schema.enum && !schema.enum.some((e) => deepEqual(e, value))) errs.push(notSupported(where, value, schema.enum.map((e) => (typeof e === 'string' ? e : JSON.stringify(e)))));
  if (typeof value === 'string') {
    if (schema.maxLength !== undefined && [...value].length > schema.maxLength) errs.push(tooLong(where, schema.maxLength));
    if (schema.minLength !== undefined && [...value].length < schema.minLength) errs.push(invalid(where, value, `${where} in body should be at least ${schema.minLength} chars long`));
    if (schema.pattern !== undefined) {
      let re: RegExp | undefined;
      try { re = new RegExp(schema.pattern, 'u'); } catch { re = undefined; }
      if (re && !re.test(value)) errs.push(invalid(where, value, `${where} in body should match '${schema.pattern}'`));
    }
    if (schema.format === 'date-time' && Number.isNaN(Date.parse(value))) errs.push(invalid(where, value, `${where} in body must be of type date-time: "${value}"`));
  }
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && (schema.exclusiveMinimum ? value <= schema.minimum : value < schema.minimum)) {
      errs.push(invalid(where, value, `${where} in body should be greater than ${schema.exclusiveMinimum ? '' : 'or equal to '}${schema.minimum}`));
    }
    if (schema.maximum !== undefined && (schema.exclusiveMaximum ? value >= schema.maximum : value > schema.maximum)) {
      errs.push(invalid(where, value, `${where} in body should be less than ${schema.exclusiveMaximum ? '' : 'or equal to '}${schema.maximum}`));
    }
    if (schema.multipleOf !== undefined && schema.multipleOf !== 0 && Math.abs(value / schema.multipleOf - Math.round(value / schema.multipleOf)) > 1e-9) {
      errs.push(invalid(where, value, `${where} in body should be a multiple of ${schema.multipleOf}`));
    }
  }
  if (Array.isArray(value)) {
    if (schema.maxItems !== undefined && value.length > schema.maxItems) errs.push({ type: 'FieldValueTooMany', field: where, message: `Too many: ${value.length}: must have at most ${schema.maxItems} items` });
    if (schema.minItems !== undefined && value.length < schema.minItems) errs.push(invalid(where, value, `${where} in body should have at least ${schema.minItems} items`));
    if (schema.uniqueItems || schema['x-kubernetes-list-type'] === 'set') {
      const seen = new Set<string>();
      value.forEach((v, i) => { const k = JSON.stringify(canonical(v)); if (seen.has(k)) errs.push(duplicate(`${path}[${i}]`, v)); seen.add(k); });
    }
    if (schema['x-kubernetes-list-type'] === 'map' && schema['x-kubernetes-list-map-keys']) {
      const seen = new Set<string>();
      const keys = schema['x-kubernetes-list-map-keys'];
      value.forEach((v, i) => {
        if (!isObj(v)) return;
        const k = JSON.stringify(keys.map((key) => v[key]));
        if (seen.has(k)) errs.push(duplicate(`${path}[${i}]`, Object.fromEntries(keys.map((key) => [key, v[key]]))));
        seen.add(k);
      });
    }
    if (schema.items) value.forEach((v, i) => errs.push(...validateAgainstSchema(schema.items, v, `${path}[${i}]`)));
  }
  if (isObj(value)) {
    for (const r of schema.required ?? []) if (value[r] === undefined) errs.push(required(joinPath(path, r)));
    if (schema.maxProperties !== undefined && Object.keys(value).length > schema.maxProperties) errs.push({ type: 'FieldValueTooMany', field: where, message: `Too many: ${Object.keys(value).length}: must have at most ${schema.maxProperties} items` });
    if (schema.minProperties !== undefined && Object.keys(value).length < schema.minProperties) errs.push(invalid(where, value, `${where} in body should have at least ${schema.minProperties} properties`));
    const props = schema.properties ?? {};
    for (const [k, v] of Object.entries(value)) {
      if (props[k]) errs.push(...validateAgainstSchema(props[k], v, joinPath(path, k)));
      else if (typeof schema.additionalProperties === 'object') errs.push(...validateAgainstSchema(schema.additionalProperties, v, joinPath(path, k)));
    }
  }
  for (const sub of schema.allOf ?? []) errs.push(...validateAgainstSchema(sub, value, path));
  if (schema.anyOf && !schema.anyOf.some((sub) => validateAgainstSchema(sub, value, path).length === 0)) {
    errs.push(invalid(where, value, `${where} in body must match at least one schema in anyOf`));
  }
  if (schema.oneOf && schema.oneOf.filter((sub) => validateAgainstSchema(sub, value, path).length === 0).length !== 1) {
    errs.push(invalid(where, value, `${where} in body must validate one and only one schema (oneOf)`));
  }
  if (isObj(schema.not) && validateAgainstSchema(schema.not as SchemaObject, value, path).length === 0) {
    errs.push(invalid(where, value, `${where} in body must not validate the schema (not)`));
  }
  return errs;
}

/**
 * Drops, in place, the fields a structural schema does not specify (CRD pruning), keeping
 * apiVersion/kind/metadata at the root and in x-kubernetes-embedded-resource objects, and
 * everything under x-kubernetes-preserve-unknown-fields. Returns the pruned paths.
 */
export function pruneUnknownFields(schema: SchemaObject | undefined, obj: unknown): string[] {
  const pruned: string[] = [];
  pruneIn(schema, obj, '', pruned, true);
  return pruned;
}

function pruneIn(schema: SchemaObject | undefined, value: unknown, path: string, pruned: string[], isRoot: boolean): void {
  if (!schema) return;
  if (Array.isArray(value)) {
    if (schema.items) value.forEach((v, i) => pruneIn(schema.items, v, `${path}[${i}]`, pruned, false));
    return;
  }
  if (!isObj(value)) return;
  const keepMeta = isRoot || schema['x-kubernetes-embedded-resource'] === true;
  const props = schema.properties ?? {};
  const preserve = schema['x-kubernetes-preserve-unknown-fields'] === true;
  for (const [k, v] of Object.entries(value)) {
    if (keepMeta && (k === 'apiVersion' || k === 'kind' || k === 'metadata')) {
      if (props[k]) pruneIn(props[k], v, joinPath(path, k), pruned, false);
      continue;
    }
    if (props[k]) pruneIn(props[k], v, joinPath(path, k), pruned, false);
    else if (typeof schema.additionalProperties === 'object') pruneIn(schema.additionalProperties, v, joinPath(path, k), pruned, false);
    else if (schema.additionalProperties === true || preserve) continue;
    else { delete value[k]; pruned.push(joinPath(path, k)); }
  }
}
