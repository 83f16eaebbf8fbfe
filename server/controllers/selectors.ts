// Label selectors as controllers use them: the structured LabelSelector of a spec and the string
// form of list options (`a=b,c!=d,e in (x,y),!f`), compiled once into a predicate.
import type { LabelSelector } from './types';

export class SelectorError extends Error {
  readonly code = 'InvalidSelector';
  constructor(message: string) {
    super(message);
    this.name = 'SelectorError';
  }
}

export interface Requirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist' | 'Equals' | 'NotEquals' | 'Gt' | 'Lt';
  values: string[];
}

/** A compiled selector. `empty` selects everything; `nothing` selects nothing (a nil selector). */
export interface Selector {
  readonly requirements: readonly Requirement[];
  readonly nothing: boolean;
  matches(labels: Record<string, string> | undefined): boolean;
  /** The string form accepted by `?labelSelector=`. */
  toString(): string;
}

function matchOne(r: Requirement, labels: Record<string, string>): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, r.key);
  const v = labels[r.key];
  switch (r.operator) {
    case 'In': case 'Equals': return has && r.values.includes(v);
    case 'NotIn': case 'NotEquals': return !has || !r.values.includes(v);
    case 'Exists': return has;
    case 'DoesNotExist': return !has;
    case 'Gt': return has && Number(v) > Number(r.values[0]);
    case 'Lt': return has && Number(v) < Number(r.values[0]);
  }
  return false;
}

function reqToString(r: Requirement): string {
  switch (r.operator) {
    case 'Equals': return `${r.key}=${r.values[0]}`;
    case 'NotEquals': return `${r.key}!=${r.values[0]}`;
    case 'In': return `${r.key} in (${r.values.join(',')})`;
    case 'NotIn': return `${r.key} notin (${r.values.join(',')})`;
    case 'Exists': return r.key;
    case 'DoesNotExist': return `!${r.key}`;
    case 'Gt': return `${r.key}>${r.values[0]}`;
    case 'Lt': return `${r.key}<${r.values[0]}`;
  }
}

function makeSelector(reqs: Requirement[], nothing = false): Selector {
  return {
    requirements: reqs,
    nothing,
    matches(labels) {
      if (nothing) return false;
      const l = labels ?? {};
      for (const r of reqs) if (!matchOne(r, l)) return false;
      return true;
    },
    toString() { return reqs.map(reqToString).join(','); },
  };
}

export const everything: Selector = makeSelector([]);
export const nothing: Selector = makeSelector([], true);

/**
 * metav1.LabelSelectorAsSelector: nil selects nothing, an empty selector selects everything.
 * Throws SelectorError for an unknown operator or a missing value list.
 */
export function fromLabelSelector(sel: LabelSelector | undefined | null): Selector {
  if (!sel) return nothing;
  const reqs: Requirement[] = [];
  for (const [k, v] of Object.entries(sel.matchLabels ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    reqs.push({ key: k, operator: 'In', values: [v] });
  }
  for (const e of sel.matchExpressions ?? []) {
    const op = e.operator;
    if (op === 'In' || op === 'NotIn') {
      if (!e.values?.length) throw new SelectorError(`values: Invalid value: for 'in', 'notin' operators, values set can't be empty`);
      reqs.push({ key: e.key, operator: op, values: [...e.values] });
    } else if (op === 'Exists' || op === 'DoesNotExist') {
      reqs.push({ key: e.key, operator: op, values: [] });
    } else {
      throw new SelectorError(`"${op}" is not a valid label selector operator`);
    }
  }
  return makeSelector(reqs);
}

/** Node selector terms use Gt/Lt as well; same structure, different operator set. */
export function fromNodeSelectorRequirements(exprs: Array<{ key: string; operator: string; values?: string[] }>): Selector {
  const reqs: Requirement[] = [];
  for (const e of exprs) {
    if (!['In', 'NotIn', 'Exists', 'DoesNotExist', 'Gt', 'Lt'].includes(e.operator)) {
      throw new SelectorError(`"${e.operator}" is not a valid node selector operator`);
    }
    reqs.push({ key: e.key, operator: e.operator as Requirement['operator'], values: e.values ?? [] });
  }
  return makeSelector(reqs);
}

/** A selector that matches exactly these labels (labels.SelectorFromSet). */
export function fromSet(set: Record<string, string> | undefined): Selector {
  return makeSelector(Object.entries(set ?? {}).map(([key, v]) => ({ key, operator: 'Equals' as const, values: [v] })));
}

/** Parses the string form of a label selector (`a=b,c!=d,e in (x,y),f notin (z),g,!h`). */
export function parseSelector(text: string | undefined): Selector {
  if (!text || !text.trim()) return everything;
  const reqs: Requirement[] = [];
  // Split on commas that are not inside parentheses.
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) { parts.push(cur); cur = ''; } else cur += ch;
  }
  parts.push(cur);
  for (const raw of parts) {
    const p = raw.trim();
    let m: RegExpMatchArray | null;
    if ((m = p.match(/^([^\s!=<>]+)\s+(in|notin)\s+\((.*)\)$/))) {
      reqs.push({ key: m[1], operator: m[2] === 'in' ? 'In' : 'NotIn', values: m[3].split(',').map((s) => s.trim()).filter((s) => s !== '') });
    } else if ((m = p.match(/^([^\s!=<>]+)\s*!=\s*(\S*)$/))) {
      reqs.push({ key: m[1], operator: 'NotEquals', values: [m[2]] });
    } else if ((m = p.match(/^([^\s!=<>]+)\s*==?\s*(\S*)$/))) {
      reqs.push({ key: m[1], operator: 'Equals', values: [m[2]] });
    } else if ((m = p.match(/^!\s*([^\s!=<>]+)$/))) {
      reqs.push({ key: m[1], operator: 'DoesNotExist', values: [] });
    } else if ((m = p.match(/^([^\s!=<>]+)$/))) {
      reqs.push({ key: m[1], operator: 'Exists', values: [] });
    } else {
      throw new SelectorError(`unable to parse requirement: ${JSON.stringify(p)}`);
    }
  }
  return makeSelector(reqs);
}

/** Field selectors the controllers and fakes understand: `path=value` and `path!=value`, comma-joined. */
export function parseFieldSelector(text: string | undefined): (obj: any) => boolean {
  if (!text || !text.trim()) return () => true;
  const terms = text.split(',').map((t) => {
    const m = t.trim().match(/^([\w.]+)\s*(!=|==|=)\s*(.*)$/);
    if (!m) throw new SelectorError(`invalid field selector: ${JSON.stringify(t)}`);
    return { path: m[1].split('.'), neg: m[2] === '!=', value: m[3] };
  });
  return (obj) => terms.every((t) => {
    let v: any = obj;
    for (const p of t.path) v = v?.[p];
    const s = v === undefined || v === null ? '' : String(v);
    return t.neg ? s !== t.value : s === t.value;
  });
}
