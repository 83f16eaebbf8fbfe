// Per-kind behaviour on top of the generic registry (upstream's REST strategies): what create
// resets, what survives an update, how deletion proceeds, and which allocations a kind holds.
import type { Store } from '../../embedded-store/types';
import type { ServedResource } from './resources';
import type { DeleteOptions, WriteContext } from './types';
import type { FieldCause } from './errors';
import { allocateService, releaseService, type Allocation } from './allocators';
import { coreToEventsV1, DEFAULT_EVENT_TTL_SECONDS, eventsV1ToCore, validateEventsV1 } from './events';
import { priorityClassStrategy } from './priorityclass';

export interface RegistryHooks {
  namespaceTerminating?: (name: string) => void;
  crdChanged?: () => Promise<void>;
  /** Seconds an Event lives in the store (kube-apiserver --event-ttl; 3600 by default). */
  eventTtlSeconds?: number;
  /** RBAC's escalation check on role and binding writes (server/auth/escalation.ts); throws a 403. */
  rbacWriteCheck?: (kind: string, obj: any, user: WriteContext['user']) => void;
  /** Mutating admission of a pod being created (server/admission): after defaults, before validation, dryRun too. */
  admitPodCreate?: (pod: any, ctx: WriteContext) => void | Promise<void>;
  /** A created pod was stored (never on dryRun): admission's follow-ups, e.g. PodPreset conflict Events. */
  podCreated?: (pod: any) => void;
  /** Admission of a pods/ephemeralcontainers write (server/admission): the updated pod, before it is stored; throws a 403. */
  admitEphemeralContainers?: (pod: any) => void | Promise<void>;
}

export interface StrategyEnv { store: Store; hooks: RegistryHooks }

export interface Strategy {
  /** Keep the client's status on create (kinds without a status subresource always do). */
  keepStatusOnCreate?: boolean;
  /** PUT of a missing object creates it (nodes, events, endpoints, leases). */
  allowCreateOnUpdate?: boolean;
  requireResourceVersionOnUpdate?: boolean;
  ttlSeconds?(obj: any, env: StrategyEnv): number;
  /** The stored form when it differs from the served one (events.k8s.io Events are stored as core/v1). */
  toStorage?(obj: any): any;
  /** The served form of a stored object; must not mutate it (watch-cache objects are shared). */
  fromStorage?(stored: any): any;
  prepareForCreate?(obj: any, env: StrategyEnv, ctx: WriteContext, res: ServedResource): void | Promise<void>;
  prepareForUpdate?(obj: any, old: any, env: StrategyEnv, ctx: WriteContext, res: ServedResource): void | Promise<void>;
  validate?(obj: any, old: any | undefined, res: ServedResource): FieldCause[];
  /** Reserves what the object holds (service IPs and ports); returns how to undo it. */
  allocate?(obj: any, old: any | undefined, env: StrategyEnv, res: ServedResource): Promise<Allocation | undefined>;
  afterCreate?(obj: any, env: StrategyEnv, res: ServedResource): Promise<void>;
  afterUpdate?(obj: any, env: StrategyEnv, res: ServedResource): Promise<void>;
  /** Seconds of graceful deletion (undefined: none; 0: delete now). */
  gracePeriod?(obj: any, opts: DeleteOptions): number | undefined;
  /** Adjusts the object about to be deleted; 'keep' leaves it in place (namespaces terminate). */
  beforeDelete?(next: any, current: any, env: StrategyEnv, ctx: WriteContext, res: ServedResource): Promise<'keep' | void>;
  afterMarkedForDeletion?(obj: any, env: StrategyEnv, res: ServedResource): Promise<void>;
  afterDelete?(obj: any, env: StrategyEnv, res: ServedResource): Promise<void>;
}

const IMMORTAL_NAMESPACES = new Set(['default', 'kube-system', 'kube-public']);


const podStrategy: Strategy = {
  prepareForCreate(obj, env, ctx) {
    const setStatus = () => { obj.status = { phase: 'Pending', qosClass: qosClass(obj) }; };
    // Admission answers synchronously from its caches; a Promise only when it had to read the store.
    const admitted = env.hooks.admitPodCreate?.(obj, ctx);
    if (admitted) return admitted.then(setStatus);
    setStatus();
  },
  async afterCreate(obj, env) { env.hooks.podCreated?.(obj); },
  prepareForUpdate(obj, old) {
    // v1's deprecated spec.serviceAccount mirrors serviceAccountName on every write, as upstream's conversion
    // makes it: an update that sends only one of them changes neither (on create, ServiceAccount admission does it).
    const spec = obj.spec;
    if (!spec || typeof spec !== 'object') return;
    // The Priority plugin on update: a PUT without spec.priority keeps the one admission set at create.
    if (spec.priority === undefined && old.spec?.priority !== undefined) spec.priority = old.spec.priority;
    if (!spec.serviceAccountName && spec.serviceAccount) spec.serviceAccountName = spec.serviceAccount;
    if (spec.serviceAccountName) spec.serviceAccount = spec.serviceAccountName; else delete spec.serviceAccount;
  },
  gracePeriod(pod, opts) {
    // Unscheduled or finished pods have nothing to stop: they go at once (upstream does the same).
    if (!pod.spec?.nodeName) return 0;
    const phase = pod.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') return 0;
    return opts.gracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
  },
};

function qosClass(pod: any): string {
  const containers: any[] = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])];
  let any = false;
  let guaranteed = containers.length > 0;
  for (const c of containers) {
    const req = c.resources?.requests ?? {};
    const lim = c.resources?.limits ?? {};
    if (Object.keys(req).length || Object.keys(lim).length) any = true;
    for (const r of ['cpu', 'memory']) {
      if (lim[r] === undefined || (req[r] !== undefined && String(req[r]) !== String(lim[r]))) guaranteed = false;
    }
  }
  if (!any) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

const namespaceStrategy: Strategy = {
  keepStatusOnCreate: true,
  prepareForCreate(obj) {
    obj.spec = { ...(obj.spec ?? {}), finalizers: ['kubernetes'] };
    obj.status = { phase: 'Active' };
    obj.metadata.labels = { ...(obj.metadata.labels ?? {}), 'kubernetes.io/metadata.name': obj.metadata.name };
  },
  prepareForUpdate(obj, old) {
    obj.spec = { ...(obj.spec ?? {}), finalizers: old.spec?.finalizers ?? [] };
    obj.metadata.labels = { ...(obj.metadata.labels ?? {}), 'kubernetes.io/metadata.name': obj.metadata.name };
  },
  async beforeDelete(next, current) {
    if (IMMORTAL_NAMESPACES.has(current.metadata.name)) {
      const { ApiError } = await import('./errors');
      throw new ApiError(403, 'Forbidden', `namespaces "${current.metadata.name}" is forbidden: this namespace may not be deleted`, { name: current.metadata.name, kind: 'namespaces' });
    }
    // A namespace terminates: its content is deleted first, then the "kubernetes" finalizer goes.
    if ((current.spec?.finalizers ?? []).length > 0 || (current.metadata.finalizers ?? []).length > 0) {
      next.metadata.deletionTimestamp = next.metadata.deletionTimestamp ?? new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
      next.metadata.deletionGracePeriodSeconds = 0;
      next.status = { ...(next.status ?? {}), phase: 'Terminating' };
      return 'keep';
    }
  },
  async afterMarkedForDeletion(obj, env) {
    env.hooks.namespaceTerminating?.(obj.metadata.name);
  },
};

const serviceStrategy: Strategy = {
  prepareForCreate(obj) {
    obj.status = { loadBalancer: {} };
  },
  prepareForUpdate(obj, old) {
    // clusterIP is allocated once and kept when a PUT leaves it out (upstream patchAllocatedValues).
    const spec = obj.spec ?? (obj.spec = {});
    const ospec = old.spec ?? {};
    if ((spec.clusterIP === undefined || spec.clusterIP === '') && ospec.clusterIP) spec.clusterIP = ospec.clusterIP;
    if ((spec.clusterIPs === undefined || spec.clusterIPs.length === 0) && ospec.clusterIPs) spec.clusterIPs = ospec.clusterIPs;
    if (Array.isArray(spec.ports) && Array.isArray(ospec.ports)) {
      for (const p of spec.ports) {
        if (p.nodePort) continue;
        const op = ospec.ports.find((x: any) => x.port === p.port && (x.protocol ?? 'TCP') === (p.protocol ?? 'TCP'));
        if (op?.nodePort && (spec.type === 'NodePort' || spec.type === 'LoadBalancer')) p.nodePort = op.nodePort;
      }
    }
  },
  allocate(obj, old, env) { return allocateService(env.store, obj, old); },
  async afterDelete(obj, env) { await releaseService(env.store, obj); },
};

const secretStrategy: Strategy = {
  prepareForCreate(obj) { foldStringData(obj); },
  prepareForUpdate(obj) { foldStringData(obj); },
};

function foldStringData(obj: any): void {
  if (obj.stringData && typeof obj.stringData === 'object') {
    obj.data = obj.data ?? {};
    for (const [k, v] of Object.entries(obj.stringData)) obj.data[k] = Buffer.from(String(v)).toString('base64');
    delete obj.stringData;
  }
  if (!obj.type) obj.type = 'Opaque';
}

const crdStrategy: Strategy = {
  prepareForCreate(obj) { crdStatus(obj, undefined); },
  prepareForUpdate(obj, old) { crdStatus(obj, old); },
  async afterCreate(_o, env) { await env.hooks.crdChanged?.(); },
  async afterUpdate(_o, env) { await env.hooks.crdChanged?.(); },
  async afterMarkedForDeletion(_o, env) { await env.hooks.crdChanged?.(); },
  async beforeDelete(_next, current, env) {
    // The CRD's objects go with it (upstream's customresourcecleanup finalizer, done inline).
    const spec = current.spec ?? {};
    if (spec.group && spec.names?.plural) {
      const prefix = `/registry/${spec.group}/${spec.names.plural}/`;
      for (;;) {
        const page = await env.store.list(prefix, { limit: 500 });
        for (const kv of page.items) await env.store.delete(kv.key).catch(() => undefined);
        if (!page.continue) break;
      }
    }
  },
  async afterDelete(_o, env) { await env.hooks.crdChanged?.(); },
};

/** NamesAccepted and Established (orch has no naming controller: names are accepted when unique). */
function crdStatus(obj: any, old: any | undefined): void {
  const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  const names = obj.spec?.names ?? {};
  const accepted = { ...names, singular: names.singular ?? String(names.kind ?? '').toLowerCase(), listKind: names.listKind ?? `${names.kind}List` };
  const prev: any[] = old?.status?.conditions ?? [];
  const cond = (type: string, reason: string, message: string): any => {
    const p = prev.find((c) => c.type === type && c.status === 'True');
    return { type, status: 'True', lastTransitionTime: p?.lastTransitionTime ?? now, reason, message };
  };
  obj.status = {
    ...(obj.status ?? {}),
    acceptedNames: accepted,
    storedVersions: [...new Set([...(old?.status?.storedVersions ?? []), ...(obj.spec?.versions ?? []).filter((v: any) => v.storage).map((v: any) => v.name)])],
    conditions: [
      cond('NamesAccepted', 'NoConflicts', 'no conflicts found'),
      cond('Established', 'InitialNamesAccepted', 'the initial names have been accepted'),
    ],
  };
}

const eventStrategy: Strategy = {
  allowCreateOnUpdate: true,
  ttlSeconds: (_obj, env) => env.hooks.eventTtlSeconds ?? DEFAULT_EVENT_TTL_SECONDS,
};

/** events.k8s.io/v1 Events: the same storage as core/v1 Events, converted on the way in and out. */
const eventsV1Strategy: Strategy = {
  ...eventStrategy,
  toStorage: eventsV1ToCore,
  fromStorage: coreToEventsV1,
  validate: (obj, old) => validateEventsV1(obj, old),
};

const createOnUpdate: Strategy = { allowCreateOnUpdate: true };

/** Roles and bindings: nobody grants what they do not hold (upstream's escalation prevention). */
function rbacStrategy(kind: string): Strategy {
  return {
    prepareForCreate(obj, env, ctx) { env.hooks.rbacWriteCheck?.(kind, obj, ctx.user); },
    prepareForUpdate(obj, _old, env, ctx) { env.hooks.rbacWriteCheck?.(kind, obj, ctx.user); },
  };
}

const byKind: Record<string, Strategy> = {
  '/Pod': podStrategy,
  '/Namespace': namespaceStrategy,
  '/Service': serviceStrategy,
  '/Secret': secretStrategy,
  '/Event': eventStrategy,
  'events.k8s.io/Event': eventsV1Strategy,
  '/Node': createOnUpdate,
  '/Endpoints': createOnUpdate,
  'coordination.k8s.io/Lease': createOnUpdate,
  'scheduling.k8s.io/PriorityClass': priorityClassStrategy,
  'apiextensions.k8s.io/CustomResourceDefinition': crdStrategy,
  'rbac.authorization.k8s.io/Role': rbacStrategy('Role'),
  'rbac.authorization.k8s.io/ClusterRole': rbacStrategy('ClusterRole'),
  'rbac.authorization.k8s.io/RoleBinding': rbacStrategy('RoleBinding'),
  'rbac.authorization.k8s.io/ClusterRoleBinding': rbacStrategy('ClusterRoleBinding'),
};

const none: Strategy = {};

export function strategyFor(res: ServedResource): Strategy {
  if (res.custom) return none;
  return byKind[`${res.group}/${res.kind}`] ?? none;
}
