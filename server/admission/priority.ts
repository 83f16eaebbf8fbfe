// Upstream's Priority admission plugin for pod CREATE: `spec.priorityClassName` (or, when empty,
// the globalDefault PriorityClass, whose name the pod then carries) becomes `spec.priority` and
// `spec.preemptionPolicy`; a class that does not exist is refused (403), and so is a pod that sets a
// priority or preemption policy different from its class's. No class and no default: priority 0,
// PreemptLowerPriority. Classes come from PriorityClassCache (watch-fed); only a miss reads the store.
import { ApiError, forbiddenMessage } from '../apiserver/errors';
import {
  DEFAULT_PRIORITY_WHEN_NO_DEFAULT_CLASS, PREEMPT_LOWER_PRIORITY, type PriorityClassCache,
} from '../apiserver/priorityclass';

/** What a pod resolves to: the class's name ('' when none), value and preemption policy. */
export interface ResolvedPriority { className: string; value: number; preemptionPolicy: string }

function podForbidden(pod: any, message: string): ApiError {
  return forbiddenMessage('', 'pods', pod.metadata?.name ?? '', message);
}

/** The priority a class gives; `null` stands for "no class, no default". */
export function priorityFromClass(pc: any | null): ResolvedPriority {
  if (!pc) return { className: '', value: DEFAULT_PRIORITY_WHEN_NO_DEFAULT_CLASS, preemptionPolicy: PREEMPT_LOWER_PRIORITY };
  return { className: pc.metadata.name, value: pc.value ?? 0, preemptionPolicy: pc.preemptionPolicy ?? PREEMPT_LOWER_PRIORITY };
}

/**
 * Writes the resolved priority into the pod, refusing values the pod set that differ from it.
 * `fromDefault`: the pod named no class, so it takes the default class's name.
 */
export function applyPriority(pod: any, resolved: ResolvedPriority, fromDefault: boolean): void {
  const spec = pod.spec ?? (pod.spec = {});
  if (spec.priority !== undefined && spec.priority !== null && spec.priority !== resolved.value) {
    throw podForbidden(pod, `the integer value of priority (${spec.priority}) must not be provided in pod spec; priority admission controller computed ${resolved.value} from the given PriorityClass name`);
  }
  if (spec.preemptionPolicy !== undefined && spec.preemptionPolicy !== null && spec.preemptionPolicy !== resolved.preemptionPolicy) {
    throw podForbidden(pod, `the string value of PreemptionPolicy (${spec.preemptionPolicy}) must not be provided in pod spec; priority admission controller computed ${resolved.preemptionPolicy} from the given PriorityClass name`);
  }
  if (fromDefault && resolved.className) spec.priorityClassName = resolved.className;
  spec.priority = resolved.value;
  spec.preemptionPolicy = resolved.preemptionPolicy;
}

export class PriorityAdmission {
  constructor(private readonly classes: PriorityClassCache) {}

  /** Starts the class cache (list + watch); lookups before it is synced read the store. */
  start(): void { this.classes.start(); }
  stop(): void { this.classes.stop(); }

  /** Resolves the pod's priority; synchronous when the cache answers, a Promise when the store had to be read. */
  admit(pod: any): void | Promise<void> {
    const name: string = pod.spec?.priorityClassName ?? '';
    if (name === '') {
      const dpc = this.classes.defaultClass();
      if (dpc !== undefined) return applyPriority(pod, priorityFromClass(dpc), true);
      return this.classes.readDefault().then((pc) => applyPriority(pod, priorityFromClass(pc ?? null), true));
    }
    const pc = this.classes.lookup(name);
    if (pc) return applyPriority(pod, priorityFromClass(pc), false);
    // Not in memory: created a moment ago, or not at all.
    return this.classes.read(name).then((read) => {
      if (!read) throw podForbidden(pod, `no PriorityClass with name ${name} was found`);
      applyPriority(pod, priorityFromClass(read), false);
    });
  }
}
