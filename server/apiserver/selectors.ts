// Label and field selectors of list/watch requests (apimachinery labels.Parse and fields.Parse
// grammar): `a=b,c!=d,e in (x,y),f notin (z),g,!h` for labels, `a=b,c!=d` for fields.
import { badRequest } from './errors';

export class SelectorParseError extends Error {
  readonly code = 'SelectorParseError';
  constructor(message: string) { super(message); this.name = 'SelectorParseError'; }
}

type Op = 'in' | 'notin' | 'exists' | '!' | '=' | '!=' | 'gt' | 'lt';
export interface LabelRequirement { key: string; op: Op; values: string[] }

export interface LabelSelector {
  requirements: LabelRequirement[];
  empty: boolean;
  matches(labels: Record<string, string> | undefined): boolean;
}

const KEY_RE = /^([a-z0-9A-Z]([-a-z0-9A-Z.]*[a-z0-9A-Z])?\/)?[a-z0-9A-Z]([-a-z0-9A-Z_.]{0,61}[a-z0-9A-Z])?$/;
const VALUE_RE = /^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$/;

/** Splits on commas that are not inside parentheses. */
function splitTerms(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) { out.push(cur); cur = ''; continue; }
    cur += ch;
  }
  out.push(cur);
  return out.map((t) => t.trim()).filter((t) => t.length > 0);
}

function checkKey(k: string): string {
  if (!KEY_RE.test(k)) throw new SelectorParseError(`unable to parse requirement: <nil>: Invalid value: "${k}": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`);
  return k;
}

function checkValue(v: string): string {
  if (!VALUE_RE.test(v) || v.length > 63) throw new SelectorParseError(`unable to parse requirement: values[0]: Invalid value: "${v}": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`);
  return v;
}

function parseTerm(t: string): LabelRequirement {
  let m = /^(\S+)\s+(in|notin)\s*\((.*)\)$/.exec(t);
  if (m) {
    const values = m[3]!.split(',').map((v) => v.trim()).filter((v, i, a) => v.length > 0 || a.length === 1);
    return { key: checkKey(m[1]!), op: m[2] as Op, values: values.map(checkValue) };
  }
  m = /^!\s*(\S+)$/.exec(t);
  if (m) return { key: checkKey(m[1]!), op: '!', values: [] };
  m = /^([^=!<>\s]+)\s*(==|=|!=|<|>)\s*(.*)$/.exec(t);
  if (m) {
    const op = m[2] === '==' ? '=' : m[2] === '<' ? 'lt' : m[2] === '>' ? 'gt' : (m[2] as Op);
    const v = m[3]!.trim();
    if ((op === 'gt' || op === 'lt') && !/^-?\d+$/.test(v)) throw new SelectorParseError(`unable to parse requirement: for 'Gt', 'Lt' operators, the value must be an integer`);
    return { key: checkKey(m[1]!), op, values: [op === 'gt' || op === 'lt' ? v : checkValue(v)] };
  }
  if (/^\S+$/.test(t)) return { key: checkKey(t), op: 'exists', values: [] };
  throw new SelectorParseError(`unable to parse requirement: found '${t}', expected: ',', '=', '!=', 'in', 'notin'`);
}

function matchRequirement(r: LabelRequirement, labels: Record<string, string>): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, r.key);
  const v = labels[r.key];
  switch (r.op) {
    case '=': case 'in': return has && r.values.includes(v!);
    case '!=': case 'notin': return !has || !r.values.includes(v!);
    case 'exists': return has;
    case '!': return !has;
    case 'gt': return has && /^-?\d+$/.test(v!) && Number(v) > Number(r.values[0]);
    case 'lt': return has && /^-?\d+$/.test(v!) && Number(v) < Number(r.values[0]);
  }
}

export function parseLabelSelector(s: string | undefined): LabelSelector {
  const requirements = s ? splitTerms(s).map(parseTerm) : [];
  return {
    requirements,
    empty: requirements.length === 0,
    matches: (labels) => requirements.every((r) => matchRequirement(r, labels ?? {})),
  };
}

/** A LabelSelector object (matchLabels/matchExpressions) as selector text, requirements and values sorted as upstream's: the scale subresource's status.selector and kubectl's Selector column. */
export function labelSelectorToString(sel: { matchLabels?: Record<string, string>; matchExpressions?: Array<{ key: string; operator: string; values?: string[] }> } | undefined): string {
  if (!sel) return '';
  const parts: string[] = [];
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) parts.push(`${k}=${v}`);
  for (const e of sel.matchExpressions ?? []) {
    const vals = [...(e.values ?? [])].sort().join(',');
    if (e.operator === 'In') parts.push(`${e.key} in (${vals})`);
    else if (e.operator === 'NotIn') parts.push(`${e.key} notin (${vals})`);
    else if (e.operator === 'Exists') parts.push(e.key);
    else if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`);
  }
  return parts.sort().join(',');
}

export interface FieldRequirement { field: string; op: '=' | '!='; value: string }
export interface FieldSelector {
  requirements: FieldRequirement[];
  empty: boolean;
  matches(fields: Record<string, string>): boolean;
  /** The value required by `field=value`, when the selector pins it (used to narrow a namespace or a name). */
  exact(field: string): string | undefined;
  text: string;
}

function unescapeField(v: string): string {
  return v.replace(/\\(.)/g, '$1');
}

export function parseFieldSelector(s: string | undefined): FieldSelector {
  const requirements: FieldRequirement[] = [];
  for (const t of s ? s.split(/(?<!\\),/).map((x) => x.trim()).filter(Boolean) : []) {
    const m = /^([^=!]+?)\s*(==|=|!=)\s*(.*)$/.exec(t);
    if (!m) throw new SelectorParseError(`invalid selector: '${s}'; can't understand '${t}'`);
    requirements.push({ field: m[1]!.trim(), op: m[2] === '!=' ? '!=' : '=', value: unescapeField(m[3]!.trim()) });
  }
  return {
    requirements,
    empty: requirements.length === 0,
    text: s ?? '',
    matches: (fields) => requirements.every((r) => ((fields[r.field] ?? '') === r.value) === (r.op === '=')),
    exact: (field) => requirements.find((r) => r.field === field && r.op === '=')?.value,
  };
}

/** The field-selector fields of an object, by kind (upstream's per-kind GetAttrs / field label conversions). */
export function selectableFields(kind: string, group: string, obj: any, namespaced: boolean, extra?: string[]): Record<string, string> {
  const md = obj?.metadata ?? {};
  const f: Record<string, string> = { 'metadata.name': md.name ?? '' };
  if (namespaced) f['metadata.namespace'] = md.namespace ?? '';
  const s = obj?.spec ?? {};
  const st = obj?.status ?? {};
  if (group === '' && kind === 'Pod') {
    f['spec.nodeName'] = s.nodeName ?? '';
    f['spec.restartPolicy'] = s.restartPolicy ?? '';
    f['spec.schedulerName'] = s.schedulerName ?? '';
    f['spec.serviceAccountName'] = s.serviceAccountName ?? '';
    f['spec.hostNetwork'] = String(s.hostNetwork ?? false);
    f['status.phase'] = st.phase ?? '';
    f['status.podIP'] = st.podIP ?? '';
    f['status.nominatedNodeName'] = st.nominatedNodeName ?? '';
  } else if (group === '' && kind === 'Event') {
    const io = obj?.involvedObject ?? {};
    for (const k of ['kind', 'namespace', 'name', 'uid', 'apiVersion', 'resourceVersion', 'fieldPath']) f[`involvedObject.${k}`] = io[k] ?? '';
    f.reason = obj?.reason ?? '';
    f.reportingComponent = obj?.reportingComponent ?? '';
    f.source = obj?.source?.component ?? '';
    f.type = obj?.type ?? '';
  } else if (group === '' && kind === 'Secret') {
    f.type = obj?.type ?? '';
  } else if (group === '' && kind === 'Node') {
    f['spec.unschedulable'] = String(s.unschedulable ?? false);
  } else if (group === '' && kind === 'Namespace') {
    f['status.phase'] = st.phase ?? '';
  } else if (group === '' && kind === 'ReplicationController') {
    f['status.replicas'] = String(st.replicas ?? 0);
  } else if (group === 'apps' && kind === 'ReplicaSet') {
    f['status.replicas'] = String(st.replicas ?? 0);
  } else if (group === 'batch' && kind === 'Job') {
    f['status.successful'] = String(st.succeeded ?? 0);
  } else if (group === 'certificates.k8s.io' && kind === 'CertificateSigningRequest') {
    f['spec.signerName'] = s.signerName ?? '';
  }
  for (const path of extra ?? []) {
    let v: any = obj;
    for (const p of path.replace(/^\./, '').split('.')) v = v?.[p];
    f[path.replace(/^\./, '')] = v === undefined || v === null ? '' : String(v);
  }
  return f;
}

/** Rejects fields a kind does not support with upstream's message (a 400; kubectl adds its own "Unable to find" prefix). */
export function checkFieldSelector(sel: FieldSelector, supported: Record<string, string>): void {
  for (const r of sel.requirements) {
    if (!(r.field in supported)) throw badRequest(`field label not supported: ${r.field}`);
  }
}
