// StatefulSet controller: pods `<set>-<ordinal>` with stable hostnames under the governing
// service, PVCs `<claim>-<set>-<ordinal>` from volumeClaimTemplates, OrderedReady or Parallel
// management, RollingUpdate from the highest ordinal down to the partition (or OnDelete), and
// ControllerRevisions behind currentRevision/updateRevision; claim owner references follow
// persistentVolumeClaimRetentionPolicy (claims.ts) so the garbage collector deletes them.
import { R, isAlreadyExists, isNotFound, type Informer } from '../client';
import { QueueController, type ControllerContext } from '../controller';
import { fromLabelSelector } from '../selectors';
import { clone, controllerRef, splitKey, type KubeObject } from '../types';
import { claimObjects } from '../util/claim';
import { CONTROLLER_REVISION_HASH, syncRevisions } from '../util/history';
import { isPodAvailable, isPodReady, ownerRefFor, podFromTemplate } from '../util/pods';
import { isClaimOwnerUpToDate, isClaimStale, updateClaimOwnerRefs } from './claims';

export const POD_NAME_LABEL = 'statefulset.kubernetes.io/pod-name';
export const POD_INDEX_LABEL = 'apps.kubernetes.io/pod-index';

export function ordinalOf(set: KubeObject, pod: KubeObject): number {
  const m = new RegExp(`^${set.metadata.name!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-(\\d+)$`).exec(pod.metadata.name ?? '');
  return m ? Number(m[1]) : -1;
}

export function claimName(claim: string, set: string, ordinal: number): string {
  return `${claim}-${set}-${ordinal}`;
}

export class StatefulSetController extends QueueController {
  private readonly setInformer: Informer;
  private readonly podInformer: Informer;
  private readonly revInformer: Informer;
  private readonly pvcInformer: Informer;

  constructor(ctx: ControllerContext) {
    super('statefulset', ctx, 'statefulset-controller');
    this.setInformer = this.informer(R.statefulsets);
    this.podInformer = this.informer(R.pods);
    this.revInformer = this.informer(R.controllerrevisions);
    this.pvcInformer = this.informer(R.persistentvolumeclaims);
    this.setInformer.addEventHandler({ onAdd: (o) => this.enqueue(o), onUpdate: (_o, n) => this.enqueue(n) });
    const onPod = (p: KubeObject) => {
      const ref = controllerRef(p);
      if (ref?.kind === 'StatefulSet') this.queue.add(`${p.metadata.namespace}/${ref.name}`);
    };
    this.podInformer.addEventHandler({ onAdd: onPod, onUpdate: (o, n) => { if (o !== n) onPod(n); }, onDelete: onPod });
    // A deleted claim may unblock an ordinal that waited for its stale claim to go.
    this.pvcInformer.addEventHandler({
      onDelete: (c) => {
        for (const set of this.setInformer.store.list(c.metadata.namespace)) {
          if ((set.spec?.volumeClaimTemplates ?? []).some((t: any) => c.metadata.name?.startsWith(`${t.metadata?.name}-${set.metadata.name}-`))) this.enqueue(set);
        }
      },
    });
  }

  async sync(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const cached = this.setInformer.store.get(namespace, name);
    if (!cached) return;
    const set = clone(cached);
    const { hash: updateRevision, all: revisions } = await syncRevisions(this.client, this.revInformer, set, 'apps/v1', 'StatefulSet', set.spec?.revisionHistoryLimit ?? 10);
    const currentRevision: string = set.status?.currentRevision && revisions.some((r) => r.metadata.labels?.[CONTROLLER_REVISION_HASH] === set.status.currentRevision.replace(`${name}-`, ''))
      ? set.status.currentRevision.replace(`${name}-`, '') : updateRevision;
    const templates = new Map<string, any>(revisions.map((r) => {
      const t = structuredClone(r.data?.spec?.template ?? {});
      delete t.$patch;
      return [r.metadata.labels?.[CONTROLLER_REVISION_HASH] ?? '', t];
    }));
    const selector = fromLabelSelector(set.spec?.selector);
    const pods = await claimObjects(this.client, R.pods, set, ownerRefFor(set, 'apps/v1', 'StatefulSet'), selector,
      this.podInformer.store.list(namespace), true);
    const replicas: number = set.spec?.replicas ?? 1;
    const ordered = (set.spec?.podManagementPolicy ?? 'OrderedReady') === 'OrderedReady';
    const partition: number = set.spec?.updateStrategy?.rollingUpdate?.partition ?? 0;
    const rolling = (set.spec?.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate';
    const minReady = set.spec?.minReadySeconds ?? 0;
    const now = this.ctx.clock.now();
    const byOrdinal = new Map<number, KubeObject>();
    const condemned: KubeObject[] = [];
    for (const p of pods) {
      const o = ordinalOf(set, p);
      if (o < 0) continue;
      if (o >= replicas) condemned.push(p); else byOrdinal.set(o, p);
    }
    const healthy = (p?: KubeObject) => !!p && !p.metadata.deletionTimestamp && p.status?.phase === 'Running' && isPodReady(p);
    const revOf = (p: KubeObject) => p.metadata.labels?.[CONTROLLER_REVISION_HASH];

    if (!set.metadata.deletionTimestamp) {
      // Claim ownership first, so a condemned pod's claims carry it as owner before it goes.
      for (const p of pods) {
        const o = ordinalOf(set, p);
        if (o >= 0) await this.syncClaimOwners(set, p, o, o >= replicas);
      }
      let blocked = false;
      // Create missing and replace failed pods, in ordinal order.
      for (let i = 0; i < replicas; i++) {
        const p = byOrdinal.get(i);
        if (p && p.status?.phase === 'Failed' && !p.metadata.deletionTimestamp) {
          await this.deletePod(set, p);
          blocked = ordered;
          if (blocked) break;
          continue;
        }
        if (!p) {
          if (this.staleClaims(set, i)) {
            if (ordered) { blocked = true; break; }
            continue;
          }
          const rev = rolling && i < partition ? currentRevision : updateRevision;
          await this.createPod(set, i, rev, templates.get(rev) ?? set.spec.template);
          if (ordered) { blocked = true; break; }
          continue;
        }
        if (ordered && !healthy(p)) { blocked = true; break; }
      }
      // Scale down from the highest ordinal, one at a time when ordered and all others are healthy.
      if (!blocked) {
        for (const p of condemned.sort((a, b) => ordinalOf(set, b) - ordinalOf(set, a))) {
          if (p.metadata.deletionTimestamp) { if (ordered) { blocked = true; break; } continue; }
          await this.deletePod(set, p);
          if (ordered) { blocked = true; break; }
        }
      }
      // Rolling update from the highest ordinal down to the partition, one pod at a time.
      if (!blocked && rolling && condemned.length === 0) {
        for (let i = replicas - 1; i >= partition; i--) {
          const p = byOrdinal.get(i);
          if (!p || p.metadata.deletionTimestamp) break;
          if (revOf(p) !== updateRevision) { await this.deletePod(set, p); break; }
          if (!healthy(p)) break;
        }
      }
    }

    const live = [...byOrdinal.values()].filter((p) => !p.metadata.deletionTimestamp);
    const updated = live.filter((p) => revOf(p) === updateRevision).length;
    const current = live.filter((p) => revOf(p) === currentRevision).length;
    const st: any = {
      observedGeneration: set.metadata.generation,
      replicas: pods.filter((p) => !p.metadata.deletionTimestamp).length,
      readyReplicas: live.filter(isPodReady).length,
      currentReplicas: current,
      updatedReplicas: updated,
      availableReplicas: live.filter((p) => isPodAvailable(p, minReady, now)).length,
      currentRevision: `${name}-${currentRevision}`,
      updateRevision: `${name}-${updateRevision}`,
      collisionCount: set.status?.collisionCount ?? 0,
    };
    // The rollout is done once every replica runs the update revision.
    if (updated === replicas && st.readyReplicas === replicas) { st.currentRevision = st.updateRevision; st.currentReplicas = updated; }
    if (JSON.stringify(st) !== JSON.stringify(set.status ?? {})) {
      set.status = st;
      await this.client.updateStatus(R.statefulsets, set);
    }
  }

  private async createPod(set: KubeObject, ordinal: number, revision: string, template: any): Promise<void> {
    const name = `${set.metadata.name}-${ordinal}`;
    const ns = set.metadata.namespace!;
    // Claims first: the pod mounts them by name.
    for (const ct of set.spec?.volumeClaimTemplates ?? []) {
      const cn = claimName(ct.metadata.name, set.metadata.name!, ordinal);
      if (this.pvcInformer.store.get(ns, cn)) continue;
      const claim: KubeObject = {
        apiVersion: 'v1', kind: 'PersistentVolumeClaim',
        metadata: { name: cn, namespace: ns, labels: { ...(set.spec.selector?.matchLabels ?? {}), ...(ct.metadata?.labels ?? {}) }, annotations: ct.metadata?.annotations },
        spec: structuredClone(ct.spec),
      };
      // The pod has no uid yet: only a whenDeleted reference to the set can be set now.
      updateClaimOwnerRefs(claim, set, { metadata: { name } }, false);
      try {
        await this.client.create(R.persistentvolumeclaims, ns, claim);
        this.recorder.event(set, 'Normal', 'SuccessfulCreate', `create Claim ${cn} Pod ${name} in StatefulSet ${set.metadata.name} success`);
      } catch (e) { if (!isAlreadyExists(e)) throw e; }
    }
    const pod = podFromTemplate(template, set, ownerRefFor(set, 'apps/v1', 'StatefulSet'));
    delete pod.metadata.generateName;
    pod.metadata.name = name;
    pod.metadata.labels = { ...pod.metadata.labels, [CONTROLLER_REVISION_HASH]: revision, [POD_NAME_LABEL]: name, [POD_INDEX_LABEL]: String(ordinal) };
    pod.spec.hostname = name;
    if (set.spec?.serviceName) pod.spec.subdomain = set.spec.serviceName;
    const claimVolumes = (set.spec?.volumeClaimTemplates ?? []).map((ct: any) => ({
      name: ct.metadata.name, persistentVolumeClaim: { claimName: claimName(ct.metadata.name, set.metadata.name!, ordinal) },
    }));
    if (claimVolumes.length) {
      const names = new Set(claimVolumes.map((v: any) => v.name));
      pod.spec.volumes = [...(pod.spec.volumes ?? []).filter((v: any) => !names.has(v.name)), ...claimVolumes];
    }
    try {
      await this.client.create(R.pods, set.metadata.namespace!, pod);
      this.recorder.event(set, 'Normal', 'SuccessfulCreate', `create Pod ${name} in StatefulSet ${set.metadata.name} successful`);
    } catch (e) {
      if (!isAlreadyExists(e)) {
        this.recorder.event(set, 'Warning', 'FailedCreate', `create Pod ${name} in StatefulSet ${set.metadata.name} failed error: ${(e as Error).message}`);
        throw e;
      }
    }
  }

  /** Whether ordinal's pod must wait: one of its claims still belongs to a deleted earlier pod. */
  private staleClaims(set: KubeObject, ordinal: number): boolean {
    const pod = { metadata: { name: `${set.metadata.name}-${ordinal}` } };
    return (set.spec?.volumeClaimTemplates ?? []).some((ct: any) => {
      const claim = this.pvcInformer.store.get(set.metadata.namespace!, claimName(ct.metadata.name, set.metadata.name!, ordinal));
      return !!claim && isClaimStale(claim, set, pod);
    });
  }

  /** Brings the owner references of the pod's template claims in line with the retention policy. */
  private async syncClaimOwners(set: KubeObject, pod: KubeObject, ordinal: number, scaledDown: boolean): Promise<void> {
    for (const ct of set.spec?.volumeClaimTemplates ?? []) {
      const cached = this.pvcInformer.store.get(set.metadata.namespace!, claimName(ct.metadata.name, set.metadata.name!, ordinal));
      if (!cached || cached.metadata.deletionTimestamp || isClaimOwnerUpToDate(cached, set, pod, scaledDown)) continue;
      const claim = clone(cached);
      updateClaimOwnerRefs(claim, set, pod, scaledDown);
      try {
        await this.client.update(R.persistentvolumeclaims, claim);
      } catch (e) { if (!isNotFound(e)) throw e; }
    }
  }

  private async deletePod(set: KubeObject, pod: KubeObject): Promise<void> {
    try {
      await this.client.delete(R.pods, pod.metadata.namespace!, pod.metadata.name!, { preconditions: { uid: pod.metadata.uid } });
      this.recorder.event(set, 'Normal', 'SuccessfulDelete', `delete Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} successful`);
    } catch (e) { if (!isNotFound(e)) throw e; }
  }
}

