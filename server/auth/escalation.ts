// RBAC's privilege-escalation prevention (upstream's pkg/registry/rbac escalation checks): a user
// may create or change a Role/ClusterRole only with rules they already hold (or the `escalate`
// verb on it), and bind a role only when they hold all its rules (or the `bind` verb on it), so
// `admin` of a namespace cannot bind themselves to cluster-admin.
import type { UserInfo } from '../apiserver/types';
import { ApiError } from '../apiserver/errors';
import { PRIVILEGED_GROUP, type RbacAuthorizer } from './rbac';
import { nonResourceURLMatches, resourceNameMatches, verbMatches, apiGroupMatches, type PolicyRule } from './rules';

const RBAC_GROUP = 'rbac.authorization.k8s.io';

/** A rule split into one rule per verb x group x resource x name (per verb x URL), as upstream's BreakdownRule. */
export function breakdownRule(r: PolicyRule): PolicyRule[] {
  const out: PolicyRule[] = [];
  for (const verb of r.verbs ?? []) {
    for (const url of r.nonResourceURLs ?? []) out.push({ verbs: [verb], nonResourceURLs: [url] });
    for (const group of r.apiGroups ?? []) {
      for (const resource of r.resources ?? []) {
        const names = r.resourceNames ?? [];
        if (names.length === 0) out.push({ verbs: [verb], apiGroups: [group], resources: [resource] });
        for (const name of names) out.push({ verbs: [verb], apiGroups: [group], resources: [resource], resourceNames: [name] });
      }
    }
  }
  return out;
}

/** Whether `owner` grants the single-tuple rule `atom` (from breakdownRule). */
export function ruleCovers(owner: PolicyRule, atom: PolicyRule): boolean {
  const verb = atom.verbs![0]!;
  if (!verbMatches(owner, verb)) return false;
  if (atom.nonResourceURLs) return ownerURLCovers(owner, atom.nonResourceURLs[0]!);
  if (!apiGroupMatches(owner, atom.apiGroups![0]!) || !ownerResourceCovers(owner, atom.resources![0]!)) return false;
  const name = atom.resourceNames?.[0];
  return name === undefined ? (owner.resourceNames ?? []).length === 0 : resourceNameMatches(owner, name);
}

function ownerURLCovers(owner: PolicyRule, url: string): boolean {
  if (url === '*') return (owner.nonResourceURLs ?? []).includes('*');
  if (url.endsWith('*')) return (owner.nonResourceURLs ?? []).some((o) => o === '*' || (o.endsWith('*') && url.startsWith(o.slice(0, -1))));
  return nonResourceURLMatches(owner, url);
}

function ownerResourceCovers(owner: PolicyRule, resource: string): boolean {
  for (const o of owner.resources ?? []) {
    if (o === '*' || o === resource) return true;
    const slash = resource.indexOf('/');
    // `*/scale` covers `deployments/scale`.
    if (slash > 0 && o === `*/${resource.slice(slash + 1)}`) return true;
  }
  return false;
}

/** The single-tuple rules of `servant` that no owner rule covers (empty: the owner holds them all). */
export function uncoveredRules(owner: PolicyRule[], servant: PolicyRule[]): PolicyRule[] {
  const out: PolicyRule[] = [];
  for (const r of servant) for (const atom of breakdownRule(r)) if (!owner.some((o) => ruleCovers(o, atom))) out.push(atom);
  return out;
}

function describeRule(r: PolicyRule): string {
  const parts: string[] = [];
  const list = (xs: string[] | undefined): string => `[${(xs ?? []).map((x) => JSON.stringify(x)).join(' ')}]`;
  if ((r.nonResourceURLs ?? []).length) parts.push(`NonResourceURLs:${list(r.nonResourceURLs)}`);
  else {
    parts.push(`APIGroups:${list(r.apiGroups)}`, `Resources:${list(r.resources)}`);
    if ((r.resourceNames ?? []).length) parts.push(`ResourceNames:${list(r.resourceNames)}`);
  }
  parts.push(`Verbs:${list(r.verbs)}`);
  return `{${parts.join(', ')}}`;
}

function escalationError(plural: string, name: string, user: UserInfo, missing: PolicyRule[]): ApiError {
  const who = `user ${JSON.stringify(user.username)} (groups=[${user.groups.map((g) => JSON.stringify(g)).join(' ')}])`;
  const msg = `${plural}.${RBAC_GROUP} "${name}" is forbidden: ${who} is attempting to grant RBAC permissions not currently held:\n${missing.map(describeRule).join('\n')}`;
  return new ApiError(403, 'Forbidden', msg, { name, group: RBAC_GROUP, kind: plural });
}

/**
 * Throws a 403 when `user` may not write this Role, ClusterRole, RoleBinding or ClusterRoleBinding
 * (upstream's messages). system:masters, and users with `escalate`/`bind` on the role, pass.
 */
export function checkRbacWrite(authz: RbacAuthorizer, kind: string, obj: any, user: UserInfo): void {
  if (user.groups.includes(PRIVILEGED_GROUP)) return;
  const ns: string | undefined = obj?.metadata?.namespace || undefined;
  const name: string = obj?.metadata?.name ?? obj?.metadata?.generateName ?? '';
  if (kind === 'Role' || kind === 'ClusterRole') {
    const plural = kind === 'Role' ? 'roles' : 'clusterroles';
    if (authz.authorize(user, { verb: 'escalate', group: RBAC_GROUP, resource: plural, namespace: ns, name: obj?.metadata?.name }).allowed) return;
    if (kind === 'ClusterRole' && obj?.aggregationRule) {
      throw new ApiError(403, 'Forbidden', `${plural}.${RBAC_GROUP} "${name}" is forbidden: must have cluster-admin privileges to use the aggregationRule`, { name, group: RBAC_GROUP, kind: plural });
    }
    const held = authz.rulesFor(user, ns ?? '');
    const missing = uncoveredRules([...held.resourceRules, ...held.nonResourceRules] as PolicyRule[], obj?.rules ?? []);
    if (missing.length) throw escalationError(plural, name, user, missing);
    return;
  }
  if (kind === 'RoleBinding' || kind === 'ClusterRoleBinding') {
    const plural = kind === 'RoleBinding' ? 'rolebindings' : 'clusterrolebindings';
    const ref = obj?.roleRef ?? {};
    const refPlural = ref.kind === 'Role' ? 'roles' : 'clusterroles';
    if (authz.authorize(user, { verb: 'bind', group: RBAC_GROUP, resource: refPlural, namespace: ns, name: ref.name }).allowed) return;
    const roleRules = authz.roleRules(ref.kind, ns, ref.name);
    if (roleRules === undefined) {
      throw new ApiError(403, 'Forbidden', `${plural}.${RBAC_GROUP} "${name}" is forbidden: ${refPlural}.${RBAC_GROUP} "${ref.name}" not found`, { name, group: RBAC_GROUP, kind: plural });
    }
    const held = authz.rulesFor(user, ns ?? '');
    const missing = uncoveredRules([...held.resourceRules, ...held.nonResourceRules] as PolicyRule[], roleRules);
    if (missing.length) throw escalationError(plural, name, user, missing);
  }
}
