// ClusterRole aggregation (upstream's clusterrole-aggregation controller): a ClusterRole with an
// aggregationRule gets, as its rules, the union of the rules of every other ClusterRole its
// selectors match, in name order, without duplicates. Level-triggered: it recomputes every
// aggregated role from the authorizer's memory and writes only the roles whose rules differ.
import type { Registry } from '../apiserver/registry';
import type { WriteContext } from '../apiserver/types';
import type { RbacAuthorizer } from './rbac';
import { labelSelectorMatches, ruleKey, type PolicyRule } from './rules';

/** The rules an aggregated ClusterRole should hold, given every ClusterRole. */
export function aggregatedRules(role: any, all: any[]): PolicyRule[] {
  const selectors: any[] = role.aggregationRule?.clusterRoleSelectors ?? [];
  const out: PolicyRule[] = [];
  const seen = new Set<string>();
  const sources = all.filter((r) => r.metadata.name !== role.metadata.name && selectors.some((s) => labelSelectorMatches(s, r.metadata.labels)))
    .sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0));
  for (const src of sources) {
    for (const r of src.rules ?? []) {
      const k = ruleKey(r);
      if (seen.has(k)) continue;
      seen.add(k);
      out.push(r);
    }
  }
  return out;
}

export async function aggregateClusterRoles(registry: Registry, authorizer: RbacAuthorizer, ctx: WriteContext): Promise<void> {
  const res = registry.resource('rbac.authorization.k8s.io', 'clusterroles');
  const all = authorizer.allClusterRoles();
  for (const role of all) {
    if (!role.aggregationRule) continue;
    const want = aggregatedRules(role, all);
    const same = (rules: PolicyRule[] | undefined): boolean => JSON.stringify((rules ?? []).map(ruleKey)) === JSON.stringify(want.map(ruleKey));
    if (same(role.rules)) continue;
    await registry.guaranteedUpdate(res, undefined, role.metadata.name, async (cur) => {
      if (!cur || !cur.aggregationRule) return cur;
      cur.rules = aggregatedRules(cur, authorizer.allClusterRoles());
      return cur;
    }, { ...ctx, fieldManager: 'clusterrole-aggregation-controller', warnings: [] }).catch((err) => {
      if ((err as { httpStatus?: number }).httpStatus !== 404) throw err;
    });
  }
}
