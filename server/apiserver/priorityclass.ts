// scheduling.k8s.io/v1 PriorityClass: upstream's defaults and validation (pkg/apis/scheduling),
// the two system classes every cluster has, the refusal to delete them (upstream's REST.Delete),
// the one-default rule of the Priority admission plugin, and a watch-fed cache of the classes
// that pod admission resolves `spec.priorityClassName` from without a store read per pod create.
import type { Store } from '../../embedded-store/types';
import { forbidden, invalid, notSupported, required } from '../../api/validation';
import { forbiddenMessage, type FieldCause } from './errors';
import { decodeObject, type WatchCache } from './watchcache';
import { WatchedObjects } from './watched-objects';

export const PRIORITY_CLASS_PREFIX = '/registry/scheduling.k8s.io/priorityclasses/';
/** Names starting with this are kept for the system classes below. */
export const SYSTEM_PRIORITY_CLASS_PREFIX = 'system-';
/** The largest value a user's class may have; larger ones belong to the system classes. */
export const HIGHEST_USER_DEFINABLE_PRIORITY = 1_000_000_000;
export const SYSTEM_CRITICAL_PRIORITY = 2 * HIGHEST_USER_DEFINABLE_PRIORITY;
/** A pod's priority when it names no class and no class is the global default. */
export const DEFAULT_PRIORITY_WHEN_NO_DEFAULT_CLASS = 0;
export const PREEMPT_LOWER_PRIORITY = 'PreemptLowerPriority';
const PREEMPTION_POLICIES = [PREEMPT_LOWER_PRIORITY, 'Never'];

export interface SystemPriorityClass { name: string; value: number; description: string }

/** The classes the server creates at start and never lets anyone delete; none is the global default. */
export const SYSTEM_PRIORITY_CLASSES: readonly SystemPriorityClass[] = [
  { name: 'system-node-critical', value: SYSTEM_CRITICAL_PRIORITY + 1000, description: 'For pods a node cannot work without; they are never moved to another node.' },
  { name: 'system-cluster-critical', value: SYSTEM_CRITICAL_PRIORITY, description: 'For pods the cluster cannot work without; they may be moved to another node when needed.' },
];

/** The system class as a PriorityClass object to create. */
export function systemPriorityClassObject(c: SystemPriorityClass): any {
  return {
    apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass',
    metadata: { name: c.name }, value: c.value, description: c.description, preemptionPolicy: PREEMPT_LOWER_PRIORITY,
  };
}

/** Why a `system-` name is not one of the system classes as they must be, or undefined when it is. */
function systemClassMismatch(name: string, value: unknown, globalDefault: boolean): string | undefined {
  const spc = SYSTEM_PRIORITY_CLASSES.find((c) => c.name === name);
  if (!spc) return `${name} is not a known system priority class`;
  if (spc.value !== value) return `value of ${name} PriorityClass must be ${spc.value}`;
  if (globalDefault) return `globalDefault of ${name} PriorityClass must be false`;
  return undefined;
}

/** Upstream's ValidatePriorityClass and, with `old`, ValidatePriorityClassUpdate (metadata is checked by api/validation). */
export function validatePriorityClass(pc: any, old?: any): FieldCause[] {
  const errs: FieldCause[] = [];
  const name: string = pc.metadata?.name ?? '';
  const value = pc.value;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < -2147483648 || value > 2147483647) {
    errs.push(invalid('value', value, 'must be a 32-bit integer'));
  } else if (name.startsWith(SYSTEM_PRIORITY_CLASS_PREFIX)) {
    const why = systemClassMismatch(name, value, pc.globalDefault === true);
    if (why) errs.push(forbidden('metadata.name', `priority class names with '${SYSTEM_PRIORITY_CLASS_PREFIX}' prefix are reserved for system use only. error: ${why}`));
  } else if (value > HIGHEST_USER_DEFINABLE_PRIORITY) {
    errs.push(forbidden('value', `maximum allowed value of a user defined priority is ${HIGHEST_USER_DEFINABLE_PRIORITY}`));
  }
  if (pc.globalDefault !== undefined && typeof pc.globalDefault !== 'boolean') errs.push(invalid('globalDefault', pc.globalDefault, 'must be a boolean'));
  const policy = pc.preemptionPolicy;
  if (policy === '') errs.push(required('preemptionPolicy'));
  else if (policy !== undefined && !PREEMPTION_POLICIES.includes(policy)) errs.push(notSupported('preemptionPolicy', policy, PREEMPTION_POLICIES));
  if (old) {
    if (pc.value !== old.value) errs.push(forbidden('value', 'may not be changed in an update.'));
    if (pc.preemptionPolicy !== old.preemptionPolicy) errs.push(invalid('preemptionPolicy', pc.preemptionPolicy ?? null, 'field is immutable'));
  }
  return errs;
}

/** The class pods without a priorityClassName get: among those marked globalDefault, the lowest value (upstream's tie-break after a race). */
export function globalDefaultClass(classes: Iterable<any>): any | undefined {
  let best: any;
  for (const pc of classes) {
    if (pc?.globalDefault === true && (best === undefined || pc.value < best.value)) best = pc;
  }
  return best;
}

async function listClasses(store: Store): Promise<any[]> {
  const out: any[] = [];
  let cont: string | undefined;
  do {
    const page = await store.list(PRIORITY_CLASS_PREFIX, { limit: 500, continue: cont });
    for (const kv of page.items) out.push(decodeObject(kv.value, kv.modRevision));
    cont = page.continue;
  } while (cont);
  return out;
}

/** The Priority plugin's check on PriorityClass writes: a second globalDefault class is refused. */
async function checkSingleDefault(pc: any, store: Store, isUpdate: boolean): Promise<void> {
  if (pc.globalDefault !== true) return;
  const others = (await listClasses(store)).filter((c) => c.metadata?.name !== pc.metadata?.name || !isUpdate);
  const dpc = globalDefaultClass(others);
  if (dpc) {
    throw forbiddenMessage('scheduling.k8s.io', 'priorityclasses', pc.metadata?.name ?? '', `PriorityClass ${dpc.metadata.name} is already marked as default. Only one default can exist`);
  }
}

/** What the registry's Strategy hooks of this kind see (structural: strategies.ts imports this file). */
interface PriorityClassEnv { store: Store }

/** The registry's per-kind behaviour for PriorityClass (server/apiserver/strategies.ts). */
export const priorityClassStrategy = {
  async prepareForCreate(obj: any, env: PriorityClassEnv): Promise<void> {
    // Go decodes a missing int32 as 0; upstream defaults preemptionPolicy (SetDefaults_PriorityClass).
    obj.value ??= 0;
    obj.preemptionPolicy ??= PREEMPT_LOWER_PRIORITY;
    await checkSingleDefault(obj, env.store, false);
  },
  async prepareForUpdate(obj: any, _old: any, env: PriorityClassEnv): Promise<void> {
    obj.value ??= 0;
    obj.preemptionPolicy ??= PREEMPT_LOWER_PRIORITY;
    await checkSingleDefault(obj, env.store, true);
  },
  validate: (obj: any, old: any | undefined): FieldCause[] => validatePriorityClass(obj, old),
  async beforeDelete(_next: any, current: any): Promise<void> {
    const name = current.metadata?.name;
    if (SYSTEM_PRIORITY_CLASSES.some((c) => c.name === name)) {
      throw forbiddenMessage('scheduling.k8s.io', 'priorityclasses', name, 'this is a system priority class and cannot be deleted');
    }
  },
};

/**
 * PriorityClasses for pod admission, from a list and the watch cache (upstream's plugin reads its
 * informer's lister the same way). `lookup` answers only when synced; a name it does not hold is
 * not an answer: the caller reads the store (a class created a moment ago, or none at all).
 */
export class PriorityClassCache {
  /** name -> PriorityClass (watch-cache objects: shared, never mutated). */
  private readonly objects: WatchedObjects<any>;
  /** The global default, recomputed when a class changes rather than on every pod create; undefined = stale. */
  private defaultPc: any | null | undefined;

  constructor(private readonly store: Store, watchCache: WatchCache) {
    this.objects = new WatchedObjects(store, watchCache, PRIORITY_CLASS_PREFIX, (pc) => pc, () => { this.defaultPc = undefined; });
  }

  /** Whether lookups and defaultClass() answer from memory. */
  get synced(): boolean { return this.objects.synced(); }

  /** The class if the cache is synced and holds it; undefined means "ask the store". Never mutate the result. */
  lookup(name: string): any | undefined {
    return this.objects.get(name);
  }

  /** The global default class from memory, or null when there is none; undefined when not synced. */
  defaultClass(): any | null | undefined {
    if (!this.objects.synced()) return undefined;
    if (this.defaultPc === undefined) this.defaultPc = globalDefaultClass(this.objects.values()) ?? null;
    return this.defaultPc;
  }

  /** The store's class, or undefined when there is none (the miss path of lookup()). */
  read(name: string): Promise<any | undefined> {
    return this.objects.read(name);
  }

  /** The global default class read from the store (when the cache is not synced). */
  async readDefault(): Promise<any | undefined> {
    return globalDefaultClass(await listClasses(this.store));
  }

  /** Starts the list-and-watch now rather than at the first lookup. */
  start(): void {
    this.objects.start();
  }

  stop(): void {
    this.objects.stop();
  }
}
