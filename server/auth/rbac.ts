// The RBAC authorizer (upstream's plugin/pkg/auth/authorizer/rbac): Roles, ClusterRoles,
// RoleBindings and ClusterRoleBindings held in memory, fed by the watch cache, and evaluated per
// request without touching the store. Bindings are indexed by subject, so a request looks only at
// the bindings naming its user or one of its groups.
import type { UserInfo } from '../apiserver/types';
import { ruleAllows, ruleKey, isResourceRequest, type PolicyRule, type RequestAttributes } from './rules';

export type { RequestAttributes, PolicyRule } from './rules';

/** An authorizer's answer; `reason` is what SubjectAccessReview status carries. */
export interface Decision { allowed: boolean; reason: string; evaluationError?: string }

/** What SelfSubjectRulesReview answers. */
export interface SubjectRules {
  resourceRules: Array<{ verbs: string[]; apiGroups?: string[]; resources?: string[]; resourceNames?: string[] }>;
  nonResourceRules: Array<{ verbs: string[]; nonResourceURLs?: string[] }>;
  incomplete: boolean;
  evaluationError?: string;
}

/**
 * Contract: `authorize` is synchronous and reads only memory; it allows system:masters, then
 * anything a ClusterRoleBinding grants, then (for namespaced requests) anything a RoleBinding in
 * the request's namespace grants. A missing role denies (it is reported in `evaluationError`).
 */
export interface Authorizer {
  authorize(user: UserInfo, attrs: RequestAttributes): Decision;
  rulesFor(user: UserInfo, namespace: string): SubjectRules;
}

export const PRIVILEGED_GROUP = 'system:masters';

interface RoleRef { kind: string; name: string }
interface Binding { kind: 'ClusterRoleBinding' | 'RoleBinding'; name: string; namespace?: string; roleRef: RoleRef; subjectKeys: string[] }

export type RbacKind = 'ClusterRole' | 'Role' | 'ClusterRoleBinding' | 'RoleBinding';

/** `u:<username>` or `g:<group>`: how bindings are indexed. */
function subjectKeys(subjects: any[] | undefined, bindingNamespace: string | undefined): string[] {
  const out: string[] = [];
  for (const s of subjects ?? []) {
    if (!s?.name) continue;
    if (s.kind === 'User') out.push(`u:${s.name}`);
    else if (s.kind === 'Group') out.push(`g:${s.name}`);
    else if (s.kind === 'ServiceAccount') {
      const ns = s.namespace || bindingNamespace;
      if (ns) out.push(`u:system:serviceaccount:${ns}:${s.name}`);
    }
  }
  return out;
}

function describeSubject(key: string): string {
  return key.startsWith('u:') ? `User "${key.slice(2)}"` : `Group "${key.slice(2)}"`;
}

export class RbacAuthorizer implements Authorizer {
  private clusterRoles = new Map<string, any>();
  private roles = new Map<string, any>();
  /** binding id (`crb/<name>`, `rb/<ns>/<name>`) -> binding */
  private bindings = new Map<string, Binding>();
  /** subject key -> binding ids (cluster-wide ones) */
  private clusterIndex = new Map<string, Set<string>>();
  /** `<namespace>|<subject key>` -> binding ids */
  private namespaceIndex = new Map<string, Set<string>>();
  private clusterRoleListeners: Array<() => void> = [];

  /** Called with every ClusterRole change (the aggregation loop listens). */
  onClusterRoleChange(fn: () => void): void { this.clusterRoleListeners.push(fn); }

  /** The rules of a Role (in `namespace`) or ClusterRole; undefined when it does not exist. */
  roleRules(kind: string, namespace: string | undefined, name: string): PolicyRule[] | undefined {
    const r = kind === 'ClusterRole' ? this.clusterRoles.get(name) : kind === 'Role' && namespace ? this.roles.get(`${namespace}/${name}`) : undefined;
    return r ? (r.rules ?? []) : undefined;
  }

  /** Every ClusterRole held (shared objects: never mutate). */
  allClusterRoles(): any[] { return [...this.clusterRoles.values()]; }

  /** Adds or replaces an object from the watch cache. */
  upsert(kind: RbacKind, obj: any): void {
    const name = obj?.metadata?.name;
    if (!name) return;
    const ns = obj.metadata.namespace;
    switch (kind) {
      case 'ClusterRole':
        this.clusterRoles.set(name, obj);
        for (const l of this.clusterRoleListeners) l();
        return;
      case 'Role':
        this.roles.set(`${ns}/${name}`, obj);
        return;
      case 'ClusterRoleBinding':
      case 'RoleBinding': {
        this.remove(kind, obj);
        const id = kind === 'ClusterRoleBinding' ? `crb/${name}` : `rb/${ns}/${name}`;
        const b: Binding = { kind, name, namespace: kind === 'RoleBinding' ? ns : undefined, roleRef: obj.roleRef ?? {}, subjectKeys: subjectKeys(obj.subjects, kind === 'RoleBinding' ? ns : undefined) };
        this.bindings.set(id, b);
        for (const k of b.subjectKeys) {
          const idx = kind === 'ClusterRoleBinding' ? this.clusterIndex : this.namespaceIndex;
          const key = kind === 'ClusterRoleBinding' ? k : `${ns}|${k}`;
          let set = idx.get(key);
          if (!set) idx.set(key, set = new Set());
          set.add(id);
        }
      }
    }
  }

  remove(kind: RbacKind, obj: any): void {
    const name = obj?.metadata?.name;
    const ns = obj?.metadata?.namespace;
    switch (kind) {
      case 'ClusterRole':
        if (this.clusterRoles.delete(name)) for (const l of this.clusterRoleListeners) l();
        return;
      case 'Role':
        this.roles.delete(`${ns}/${name}`);
        return;
      case 'ClusterRoleBinding':
      case 'RoleBinding': {
        const id = kind === 'ClusterRoleBinding' ? `crb/${name}` : `rb/${ns}/${name}`;
        const b = this.bindings.get(id);
        if (!b) return;
        this.bindings.delete(id);
        for (const k of b.subjectKeys) {
          const idx = kind === 'ClusterRoleBinding' ? this.clusterIndex : this.namespaceIndex;
          const key = kind === 'ClusterRoleBinding' ? k : `${ns}|${k}`;
          const set = idx.get(key);
          set?.delete(id);
          if (set && set.size === 0) idx.delete(key);
        }
      }
    }
  }

  /** Replaces every object of one kind (a fresh list after a watch ended). */
  replaceAll(kind: RbacKind, objs: any[]): void {
    const current = kind === 'ClusterRole' ? [...this.clusterRoles.values()]
      : kind === 'Role' ? [...this.roles.values()]
        : [...this.bindings.values()].filter((b) => b.kind === kind).map((b) => ({ metadata: { name: b.name, namespace: b.namespace } }));
    for (const o of current) this.remove(kind, o);
    for (const o of objs) this.upsert(kind, o);
  }

  private rulesOf(b: Binding): { rules: PolicyRule[]; error?: string } {
    const ref = b.roleRef;
    if (ref.kind === 'ClusterRole') {
      const r = this.clusterRoles.get(ref.name);
      return r ? { rules: r.rules ?? [] } : { rules: [], error: `clusterrole.rbac.authorization.k8s.io "${ref.name}" not found` };
    }
    if (ref.kind === 'Role' && b.namespace) {
      const r = this.roles.get(`${b.namespace}/${ref.name}`);
      return r ? { rules: r.rules ?? [] } : { rules: [], error: `role.rbac.authorization.k8s.io "${ref.name}" not found` };
    }
    return { rules: [], error: `unknown roleRef kind ${JSON.stringify(ref.kind)}` };
  }

  /** Visits every binding that applies to the user (cluster-wide, then in `namespace`), with the subject key that matched. */
  private visit(user: UserInfo, namespace: string | undefined, fn: (b: Binding, subject: string) => boolean | void): void {
    const keys = [`u:${user.username}`, ...user.groups.map((g) => `g:${g}`)];
    const seen = new Set<string>();
    for (const k of keys) {
      for (const id of this.clusterIndex.get(k) ?? []) {
        if (seen.has(id)) continue;
        seen.add(id);
        if (fn(this.bindings.get(id)!, k) === true) return;
      }
    }
    if (!namespace) return;
    for (const k of keys) {
      for (const id of this.namespaceIndex.get(`${namespace}|${k}`) ?? []) {
        if (seen.has(id)) continue;
        seen.add(id);
        if (fn(this.bindings.get(id)!, k) === true) return;
      }
    }
  }

  authorize(user: UserInfo, attrs: RequestAttributes): Decision {
    if (user.groups.includes(PRIVILEGED_GROUP)) return { allowed: true, reason: '' };
    let decision: Decision | undefined;
    const errors: string[] = [];
    // Non-resource requests and cluster-scoped resources see only ClusterRoleBindings.
    const ns = isResourceRequest(attrs) ? attrs.namespace : undefined;
    this.visit(user, ns, (b, subject) => {
      const { rules, error } = this.rulesOf(b);
      if (error) errors.push(error);
      if (rules.some((r) => ruleAllows(attrs, r))) {
        const where = b.kind === 'RoleBinding' ? `RoleBinding "${b.name}/${b.namespace}"` : `ClusterRoleBinding "${b.name}"`;
        decision = { allowed: true, reason: `RBAC: allowed by ${where} of ${b.roleRef.kind} "${b.roleRef.name}" to ${describeSubject(subject)}` };
        return true;
      }
    });
    if (decision) return decision;
    return errors.length ? { allowed: false, reason: '', evaluationError: `RBAC: [${errors.join(', ')}]` } : { allowed: false, reason: '' };
  }

  rulesFor(user: UserInfo, namespace: string): SubjectRules {
    const resourceRules: SubjectRules['resourceRules'] = [];
    const nonResourceRules: SubjectRules['nonResourceRules'] = [];
    const seen = new Set<string>();
    const errors: string[] = [];
    this.visit(user, namespace || undefined, (b) => {
      const { rules, error } = this.rulesOf(b);
      if (error) errors.push(error);
      for (const r of rules) {
        const k = ruleKey(r);
        if (seen.has(k)) continue;
        seen.add(k);
        if ((r.nonResourceURLs ?? []).length > 0) nonResourceRules.push({ verbs: r.verbs ?? [], nonResourceURLs: r.nonResourceURLs });
        else resourceRules.push({ verbs: r.verbs ?? [], apiGroups: r.apiGroups ?? [], resources: r.resources ?? [], ...((r.resourceNames ?? []).length ? { resourceNames: r.resourceNames } : {}) });
      }
    });
    return { resourceRules, nonResourceRules, incomplete: errors.length > 0, ...(errors.length ? { evaluationError: errors.join(', ') } : {}) };
  }
}
