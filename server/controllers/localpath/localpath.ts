// The built-in local-path provisioner (as k3s ships rancher's): the default StorageClass
// `local-path` (WaitForFirstConsumer); a claim of that class is provisioned once a pod using it is
// on a node: a PersistentVolume `pvc-<uid>` with a hostPath under
// `<data-dir>/storage/pvc-<uid>_<namespace>_<name>` and node affinity to that node, then both are
// bound. The directory itself is created by the agent when it mounts the volume
// (hostPath type DirectoryOrCreate), not here. Released volumes with reclaimPolicy Delete are deleted.
import { join } from 'node:path';
import { DEFAULT_DATA_DIR } from '../../paths';
import { R, isAlreadyExists, isNotFound, type Informer } from '../client';
import { QueueController, type ControllerContext } from '../controller';
import { clone, splitKey, type KubeObject } from '../types';

export const STORAGE_CLASS = 'local-path';
export const PROVISIONER = 'rancher.io/local-path';
export const SELECTED_NODE = 'volume.kubernetes.io/selected-node';

export function localPathStorageClass(): KubeObject {
  return {
    apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass',
    metadata: { name: STORAGE_CLASS, annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
    provisioner: PROVISIONER, reclaimPolicy: 'Delete', volumeBindingMode: 'WaitForFirstConsumer', allowVolumeExpansion: false,
  };
}

export class LocalPathProvisioner extends QueueController {
  private readonly pvcInformer: Informer;
  private readonly pvInformer: Informer;
  private readonly podInformer: Informer;
  private readonly scInformer: Informer;

  constructor(ctx: ControllerContext) {
    super('localpath', ctx, `${PROVISIONER}_orch`);
    this.pvcInformer = this.informer(R.persistentvolumeclaims);
    this.pvInformer = this.informer(R.persistentvolumes);
    this.podInformer = this.informer(R.pods);
    this.scInformer = this.informer(R.storageclasses);
    this.pvcInformer.addEventHandler({ onAdd: (c) => this.enqueue(c), onUpdate: (_o, n) => this.enqueue(n) });
    this.pvInformer.addEventHandler({ onAdd: (v) => this.queue.add(`pv:${v.metadata.name}`), onUpdate: (_o, v) => this.queue.add(`pv:${v.metadata.name}`) });
    this.pvcInformer.addEventHandler({ onDelete: (c) => { if (c.spec?.volumeName) this.queue.add(`pv:${c.spec.volumeName}`); } });
    // A pod landing on a node is what provisions its claims.
    const onPod = (p: KubeObject) => {
      if (!p.spec?.nodeName) return;
      for (const v of p.spec.volumes ?? []) if (v.persistentVolumeClaim?.claimName) this.queue.add(`${p.metadata.namespace}/${v.persistentVolumeClaim.claimName}`);
    };
    this.podInformer.addEventHandler({ onAdd: onPod, onUpdate: (_o, n) => onPod(n) });
    this.queue.add('storageclass');
  }

  async sync(key: string): Promise<void> {
    if (key === 'storageclass') { await this.ensureStorageClass(); return; }
    if (key.startsWith('pv:')) { await this.reclaim(key.slice(3)); return; }
    const { namespace, name } = splitKey(key);
    const pvc = this.pvcInformer.store.get(namespace, name);
    if (!pvc || pvc.metadata.deletionTimestamp || pvc.spec?.volumeName) return;
    const cls = pvc.spec?.storageClassName ?? this.defaultClassName();
    if (cls !== STORAGE_CLASS) return;
    const node = pvc.metadata.annotations?.[SELECTED_NODE] ?? this.consumerNode(pvc);
    if (!node) {
      this.recorder.event(pvc, 'Normal', 'WaitForFirstConsumer', 'waiting for first consumer to be created before binding');
      return;
    }
    const pvName = `pvc-${pvc.metadata.uid}`;
    const path = join(this.ctx.options.dataDir ?? DEFAULT_DATA_DIR, 'storage', `${pvName}_${namespace}_${name}`);
    let pv = this.pvInformer.store.get('', pvName);
    if (!pv) {
      try {
        pv = await this.client.create(R.persistentvolumes, '', {
          apiVersion: 'v1', kind: 'PersistentVolume',
          metadata: { name: pvName, annotations: { 'pv.kubernetes.io/provisioned-by': PROVISIONER, 'local.path.provisioner/selected-node': node } },
          spec: {
            capacity: { storage: pvc.spec?.resources?.requests?.storage ?? '1Gi' },
            accessModes: pvc.spec?.accessModes ?? ['ReadWriteOnce'],
            persistentVolumeReclaimPolicy: 'Delete',
            storageClassName: STORAGE_CLASS,
            volumeMode: pvc.spec?.volumeMode ?? 'Filesystem',
            claimRef: { apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace, name, uid: pvc.metadata.uid, resourceVersion: pvc.metadata.resourceVersion },
            hostPath: { path, type: 'DirectoryOrCreate' },
            nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [node] }] }] } },
          },
        });
        this.recorder.event(pvc, 'Normal', 'ProvisioningSucceeded', `Successfully provisioned volume ${pvName}`);
      } catch (e) {
        if (!isAlreadyExists(e)) throw e;
        pv = await this.client.get(R.persistentvolumes, '', pvName);
      }
    }
    // Bind both sides: the claim names the volume; both report Bound.
    const claim = clone(pvc);
    claim.spec.volumeName = pvName;
    claim.metadata.annotations = { ...(claim.metadata.annotations ?? {}), 'pv.kubernetes.io/bind-completed': 'yes', 'pv.kubernetes.io/bound-by-controller': 'yes', [SELECTED_NODE]: node, 'volume.kubernetes.io/storage-provisioner': PROVISIONER };
    const updated = await this.client.update(R.persistentvolumeclaims, claim);
    updated.status = { phase: 'Bound', accessModes: pv!.spec.accessModes, capacity: pv!.spec.capacity };
    await this.client.updateStatus(R.persistentvolumeclaims, updated);
    if (pv!.status?.phase !== 'Bound') {
      const v = clone(pv!);
      v.status = { phase: 'Bound' };
      await this.client.updateStatus(R.persistentvolumes, v);
    }
  }

  private defaultClassName(): string | undefined {
    return this.scInformer.store.list().find((c) => c.metadata.annotations?.['storageclass.kubernetes.io/is-default-class'] === 'true')?.metadata.name;
  }

  /** The node of a scheduled pod that mounts this claim. */
  private consumerNode(pvc: KubeObject): string | undefined {
    for (const p of this.podInformer.store.list(pvc.metadata.namespace)) {
      if (!p.spec?.nodeName || p.metadata.deletionTimestamp) continue;
      if ((p.spec.volumes ?? []).some((v: any) => v.persistentVolumeClaim?.claimName === pvc.metadata.name)) return p.spec.nodeName;
    }
    return undefined;
  }

  private async ensureStorageClass(): Promise<void> {
    if (this.scInformer.store.get('', STORAGE_CLASS)) return;
    try { await this.client.create(R.storageclasses, '', localPathStorageClass()); } catch (e) { if (!isAlreadyExists(e)) throw e; }
  }

  /** A volume of ours whose claim is gone is Released, then deleted (reclaimPolicy Delete). */
  private async reclaim(name: string): Promise<void> {
    const pv = this.pvInformer.store.get('', name);
    if (!pv || pv.metadata.annotations?.['pv.kubernetes.io/provisioned-by'] !== PROVISIONER || pv.metadata.deletionTimestamp) return;
    const ref = pv.spec?.claimRef;
    if (!ref) return;
    const claim = this.pvcInformer.store.get(ref.namespace, ref.name);
    if (claim && claim.metadata.uid === ref.uid) return;
    try {
      const live = await this.client.get(R.persistentvolumeclaims, ref.namespace, ref.name);
      if (live.metadata.uid === ref.uid) return;
    } catch (e) { if (!isNotFound(e)) throw e; }
    if ((pv.spec.persistentVolumeReclaimPolicy ?? 'Delete') !== 'Delete') {
      if (pv.status?.phase !== 'Released') { const v = clone(pv); v.status = { phase: 'Released' }; await this.client.updateStatus(R.persistentvolumes, v); }
      return;
    }
    try { await this.client.delete(R.persistentvolumes, '', name); } catch (e) { if (!isNotFound(e)) throw e; }
  }
}
