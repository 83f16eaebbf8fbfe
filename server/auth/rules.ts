// RBAC's rule matching (upstream's rbac/v1 helpers: VerbMatches, APIGroupMatches,
// ResourceMatches, ResourceNameMatches, NonResourceURLMatches) and the request attributes an
// authorizer decides on. Pure functions over plain PolicyRule objects.

export interface PolicyRule {
  verbs?: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

/** What is asked: a resource request (group/resource/subresource/namespace/name) or a path. */
export interface RequestAttributes {
  verb: string;
  group: string;
  resource: string;
  subresource?: string;
  namespace?: string;
  name?: string;
  /** Non-resource requests (/version, /api, /openid/v1/jwks ...). */
  path?: string;
}

export function isResourceRequest(a: RequestAttributes): boolean {
  return a.path === undefined;
}

function has(list: string[] | undefined, v: string): boolean {
  return !!list && (list.includes('*') || list.includes(v));
}

export function verbMatches(r: PolicyRule, verb: string): boolean { return has(r.verbs, verb); }

export function apiGroupMatches(r: PolicyRule, group: string): boolean { return has(r.apiGroups, group); }

/** `*`, the exact `resource[/subresource]`, or `*\/subresource` for a subresource request. */
export function resourceMatches(r: PolicyRule, resource: string, subresource?: string): boolean {
  const combined = subresource ? `${resource}/${subresource}` : resource;
  for (const rr of r.resources ?? []) {
    if (rr === '*' || rr === combined) return true;
    if (subresource && rr === `*/${subresource}`) return true;
  }
  return false;
}

/** An empty resourceNames list matches every name; otherwise the name must be listed. */
export function resourceNameMatches(r: PolicyRule, name: string | undefined): boolean {
  const names = r.resourceNames ?? [];
  if (names.length === 0) return true;
  return name !== undefined && name !== '' && names.includes(name);
}

/** `*`, the exact path, or a prefix rule ending in `*`. */
export function nonResourceURLMatches(r: PolicyRule, path: string): boolean {
  for (const u of r.nonResourceURLs ?? []) {
    if (u === '*' || u === path) return true;
    if (u.endsWith('*') && path.startsWith(u.slice(0, -1))) return true;
  }
  return false;
}

export function ruleAllows(a: RequestAttributes, r: PolicyRule): boolean {
  if (!isResourceRequest(a)) return verbMatches(r, a.verb) && nonResourceURLMatches(r, a.path!);
  return verbMatches(r, a.verb) && apiGroupMatches(r, a.group) && resourceMatches(r, a.resource, a.subresource) && resourceNameMatches(r, a.name);
}

/** A rule in canonical form (for deduplication in aggregation and rules reviews). */
export function ruleKey(r: PolicyRule): string {
  return JSON.stringify([r.verbs ?? [], r.apiGroups ?? [], r.resources ?? [], r.resourceNames ?? [], r.nonResourceURLs ?? []]);
}

/** metav1.LabelSelector matching (matchLabels and matchExpressions); an empty selector matches everything. */
export function labelSelectorMatches(sel: { matchLabels?: Record<string, string>; matchExpressions?: Array<{ key: string; operator: string; values?: string[] }> } | undefined, labels: Record<string, string> | undefined): boolean {
  if (!sel) return false;
  const l = labels ?? {};
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (l[k] !== v) return false;
  for (const e of sel.matchExpressions ?? []) {
    const present = Object.prototype.hasOwnProperty.call(l, e.key);
    switch (e.operator) {
      case 'In': if (!present || !(e.values ?? []).includes(l[e.key]!)) return false; break;
      case 'NotIn': if (present && (e.values ?? []).includes(l[e.key]!)) return false; break;
      case 'Exists': if (!present) return false; break;
      case 'DoesNotExist': if (present) return false; break;
      default: return false;
    }
  }
  return true;
}
