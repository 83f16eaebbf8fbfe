// The apiserver's mutating admission of pods on create, in upstream's plugin order (its
// AllOrderedPlugins): PodPreset, then ServiceAccount, then Priority, then DefaultTolerationSeconds.
// The registry calls `admit()` after defaulting and before validation (dryRun included) and
// `created()` once the pod is stored (never on dryRun). PodPresets, ServiceAccounts and
// PriorityClasses come from memory — a list, then the watch cache, re-listed when the watch ends —
// like upstream's plugins read their informers' listers: no store read per pod create (a
// ServiceAccount or PriorityClass the cache lacks is read once).
import { randomBytes } from 'node:crypto';
import { applyDefaults } from '../../api/defaults';
import type { Registry, WriteContext } from '../apiserver/registry';
import { applyPodPresets } from './podpreset';
import { addDefaultTolerations } from './default-tolerations';
import { ServiceAccountCache } from '../apiserver/serviceaccount-cache';
import { ServiceAccountAdmission } from './serviceaccount';
import { PriorityClassCache } from '../apiserver/priorityclass';
import { PriorityAdmission } from './priority';

export { applyPodPresets } from './podpreset';
export { addDefaultTolerations } from './default-tolerations';
export { ServiceAccountAdmission } from './serviceaccount';

const ADMISSION_CONTEXT: WriteContext = {
  user: { username: 'system:apiserver', groups: ['system:masters', 'system:authenticated'] },
  fieldManager: 'kube-apiserver', fieldValidation: 'Ignore', warnings: [],
};

export class PodAdmission {
  /** namespace -> preset name -> PodPreset (watch-cache objects: shared, never mutated). */
  private presets = new Map<string, Map<string, any>>();
  /** Pods admitted unchanged because their presets conflicted: the Event to record once stored. */
  private conflicts = new WeakMap<object, string>();
  private watch: { close(): void } | undefined;
  private stopped = false;

  private readonly serviceAccounts: ServiceAccountCache;
  private readonly serviceAccount: ServiceAccountAdmission;
  private readonly priority: PriorityAdmission;

  constructor(private readonly registry: Registry, private readonly log: (msg: string) => void = () => {}) {
    this.serviceAccounts = new ServiceAccountCache(registry.store, registry.watchCache);
    this.serviceAccount = new ServiceAccountAdmission(registry, this.serviceAccounts);
    this.priority = new PriorityAdmission(new PriorityClassCache(registry.store, registry.watchCache));
  }

  /** Lists the PodPresets and follows the watch cache; resolves once the first list is held. */
  async start(): Promise<void> {
    this.serviceAccounts.start();
    this.priority.start();
    await this.startPresets();
  }

  private async startPresets(): Promise<void> {
    const res = this.registry.resource('settings.k8s.io', 'podpresets');
    const list = await this.registry.list(res, undefined);
    const fresh = new Map<string, Map<string, any>>();
    for (const p of list.items) this.put(fresh, p);
    this.presets = fresh;
    if (this.stopped) return;
    const w = this.watch = this.registry.watch(res, undefined, Number(list.resourceVersion));
    void (async () => {
      try {
        for await (const ev of w.events()) {
          if (ev.type === 'DELETED') this.presets.get(ev.object.metadata.namespace)?.delete(ev.object.metadata.name);
          else this.put(this.presets, ev.object);
        }
      } catch (err) {
        this.log(`podpreset admission: watch ended (${(err as Error).message}); re-listing`);
      }
      if (this.stopped) return;
      setTimeout(() => { if (!this.stopped) this.startPresets().catch((e) => this.log(`podpreset admission: ${(e as Error).message}`)); }, 100);
    })();
  }

  stop(): void {
    this.stopped = true;
    this.watch?.close();
    this.serviceAccounts.stop();
    this.priority.stop();
  }

  /**
   * Mutates a pod being created: presets of its namespace, its ServiceAccount (403 when missing),
   * then the default tolerations. Synchronous unless the ServiceAccount had to be read from the store.
   */
  admit(pod: any, _ctx: WriteContext): void | Promise<void> {
    const inNamespace = this.presets.get(pod.metadata?.namespace);
    if (inNamespace?.size) {
      const r = applyPodPresets(pod, [...inNamespace.values()]);
      if (r.conflict) {
        // Upstream admits the pod as sent and raises a Warning event about it.
        this.conflicts.set(pod, `conflict occurred while applying podpresets: ${(r.matched ?? []).join(',')} on pod: ${pod.metadata.generateName ?? ''} err: ${r.conflict}`);
      } else if (r.applied.length) {
        // In place: the registry holds pod.metadata across this call.
        pod.metadata.annotations = r.pod.metadata.annotations;
        pod.spec = r.pod.spec;
        // What the presets injected gets its defaults too (volume modes, fieldRef apiVersions).
        applyDefaults({ group: '', version: 'v1', kind: 'Pod' }, pod);
      }
    }
    const pending = this.serviceAccount.admit(pod);
    if (pending) return pending.then(() => this.admitPriorityAndTolerations(pod));
    return this.admitPriorityAndTolerations(pod);
  }

  /** Priority (403 for a missing class), then DefaultTolerationSeconds, as upstream orders them. */
  private admitPriorityAndTolerations(pod: any): void | Promise<void> {
    const pending = this.priority.admit(pod);
    if (pending) return pending.then(() => addDefaultTolerations(pod));
    addDefaultTolerations(pod);
  }

  /**
   * A pods/ephemeralcontainers write (the updated pod): upstream's ServiceAccount check, the pod's
   * ServiceAccount must exist and, with enforce-mountable-secrets, bounds the new containers' Secrets.
   */
  admitEphemeralContainers(pod: any): void | Promise<void> {
    return this.serviceAccount.validateEphemeralContainers(pod);
  }

  /** The pod is stored: record the conflict Event on it and on its controller, as upstream's plugin did. */
  created(pod: any): void {
    const message = this.conflicts.get(pod);
    if (!message) return;
    this.conflicts.delete(pod);
    const md = pod.metadata;
    const owner = (md.ownerReferences ?? []).find((r: any) => r.controller);
    const refs = [{ apiVersion: 'v1', kind: 'Pod', name: md.name, namespace: md.namespace, uid: md.uid }];
    if (owner) refs.push({ apiVersion: owner.apiVersion, kind: owner.kind, name: owner.name, namespace: md.namespace, uid: owner.uid });
    const events = this.registry.resource('', 'events');
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    for (const ref of refs) {
      const ev = {
        apiVersion: 'v1', kind: 'Event',
        metadata: { name: `${ref.name}.${randomBytes(8).toString('hex')}`, namespace: md.namespace },
        involvedObject: ref, reason: 'PodPreset', message, type: 'Warning',
        source: { component: 'kube-apiserver' }, reportingComponent: 'kube-apiserver',
        firstTimestamp: now, lastTimestamp: now, count: 1,
      };
      this.registry.create(events, md.namespace, ev, { ...ADMISSION_CONTEXT, warnings: [] })
        .catch((err) => this.log(`podpreset admission: event for ${ref.kind} ${md.namespace}/${ref.name}: ${(err as Error).message}`));
    }
    this.log(`podpreset admission: ${message}`);
  }

  private put(into: Map<string, Map<string, any>>, preset: any): void {
    const ns = preset.metadata.namespace;
    let m = into.get(ns);
    if (!m) into.set(ns, m = new Map());
    m.set(preset.metadata.name, preset);
  }
}
