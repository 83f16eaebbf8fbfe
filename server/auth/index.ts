// RBAC wired to the apiserver: the bootstrap policy is created at start, the authorizer's memory
// is filled by a list and then kept current by watch-cache events (re-listed when a watch expires),
// and ClusterRole aggregation runs as a small level-triggered loop over that same memory.
import type { Registry } from '../apiserver/registry';
import type { WriteContext } from '../apiserver/types';
import type { ServedResource } from '../apiserver/resources';
import { RbacAuthorizer, type RbacKind } from './rbac';
import { bootstrapClusterRoleBindings, bootstrapClusterRoles } from './bootstrap';
import { aggregateClusterRoles } from './aggregation';
import { checkRbacWrite } from './escalation';
import { ruleKey } from './rules';

export { RbacAuthorizer, PRIVILEGED_GROUP, type Authorizer, type Decision, type SubjectRules } from './rbac';
export type { RequestAttributes, PolicyRule } from './rules';
export { impersonatedUser, ImpersonationError } from './impersonation';

const RBAC_GROUP = 'rbac.authorization.k8s.io';
const KINDS: Array<[RbacKind, string]> = [['ClusterRole', 'clusterroles'], ['Role', 'roles'], ['ClusterRoleBinding', 'clusterrolebindings'], ['RoleBinding', 'rolebindings']];

export interface RbacHandle {
  authorizer: RbacAuthorizer;
  /** Creates missing bootstrap objects, fills the authorizer, starts watches and aggregation. */
  start(): Promise<void>;
  stop(): void;
}

function policyContext(): WriteContext {
  return { user: { username: 'system:apiserver', groups: ['system:masters', 'system:authenticated'] }, fieldManager: 'kube-apiserver', fieldValidation: 'Ignore', warnings: [] };
}

/** `current` with the bootstrap object's missing rules (roles) or subjects (bindings) added; undefined when nothing is missing. */
export function reconcileBootstrap(current: any, bootstrap: any): any | undefined {
  const field = bootstrap.kind === 'ClusterRole' ? 'rules' : 'subjects';
  const have: any[] = current[field] ?? [];
  const keys = new Set(have.map((x) => (field === 'rules' ? ruleKey(x) : `${x.kind}|${x.namespace ?? ''}|${x.name}`)));
  const missing = (bootstrap[field] ?? []).filter((x: any) => !keys.has(field === 'rules' ? ruleKey(x) : `${x.kind}|${x.namespace ?? ''}|${x.name}`));
  if (missing.length === 0) return undefined;
  return { ...current, [field]: [...have, ...missing] };
}

export function createRbac(registry: Registry, log: (m: string) => void = () => undefined): RbacHandle {
  const authorizer = new RbacAuthorizer();
  registry.hooks.rbacWriteCheck = (kind, obj, user) => checkRbacWrite(authorizer, kind, obj, user);
  let stopped = false;
  let aggregating = false;
  let again = false;

  const runAggregation = (): void => {
    if (stopped) return;
    if (aggregating) { again = true; return; }
    aggregating = true;
    setImmediate(() => {
      void aggregateClusterRoles(registry, authorizer, policyContext())
        .catch((err) => log(`clusterrole aggregation failed: ${(err as Error).message}`))
        .finally(() => {
          aggregating = false;
          if (again && !stopped) { again = false; runAggregation(); }
        });
    });
  };

  const watches = new Map<RbacKind, { close(): void }>();
  const follow = async (kind: RbacKind, res: ServedResource): Promise<void> => {
    const list = await registry.list(res, undefined);
    authorizer.replaceAll(kind, list.items);
    const w = registry.watch(res, undefined, Number(list.resourceVersion));
    watches.set(kind, w);
    void (async () => {
      try {
        for await (const ev of w.events()) {
          if (ev.type === 'DELETED') authorizer.remove(kind, ev.oldObject ?? ev.object);
          else authorizer.upsert(kind, ev.object);
        }
      } catch (err) {
        log(`rbac ${res.plural} watch ended (${(err as Error).message}); re-listing`);
      }
      if (stopped) return;
      // The watch ended (expired or cut off): list again, replacing what is held, and follow on.
      setTimeout(() => { if (!stopped) follow(kind, res).catch((e) => log(`rbac ${res.plural}: ${(e as Error).message}`)); }, 100);
    })();
  };

  // Upstream's reconciliation of the bootstrap policy: a missing object is created; one still
  // annotated autoupdate=true gets the rules and subjects a newer orch added (nothing is removed).
  const ensure = async (res: ServedResource, obj: any): Promise<void> => {
    const existing = (await registry.getRaw(res, undefined, obj.metadata.name))?.obj;
    if (!existing) {
      try {
        await registry.create(res, undefined, obj, policyContext());
      } catch (err) {
        if ((err as { httpStatus?: number }).httpStatus !== 409) throw err;
      }
      return;
    }
    const wantsUpdate = (cur: any): boolean => cur.metadata.annotations?.['rbac.authorization.kubernetes.io/autoupdate'] === 'true';
    if (!wantsUpdate(existing) || (obj.kind === 'ClusterRole' && obj.aggregationRule)) return;
    const merged = reconcileBootstrap(existing, obj);
    if (!merged) return;
    await registry.guaranteedUpdate(res, undefined, obj.metadata.name, async (cur) => {
      if (!cur || !wantsUpdate(cur)) return cur;
      return reconcileBootstrap(cur, obj) ?? cur;
    }, policyContext()).catch((err) => log(`bootstrap policy ${obj.kind} ${obj.metadata.name}: ${(err as Error).message}`));
  };

  return {
    authorizer,
    async start() {
      const cr = registry.resource(RBAC_GROUP, 'clusterroles');
      const crb = registry.resource(RBAC_GROUP, 'clusterrolebindings');
      for (const r of bootstrapClusterRoles()) await ensure(cr, r);
      for (const b of bootstrapClusterRoleBindings()) await ensure(crb, b);
      for (const [kind, plural] of KINDS) await follow(kind, registry.resource(RBAC_GROUP, plural));
      authorizer.onClusterRoleChange(runAggregation);
      await aggregateClusterRoles(registry, authorizer, policyContext());
    },
    stop() {
      stopped = true;
      for (const w of watches.values()) w.close();
    },
  };
}
