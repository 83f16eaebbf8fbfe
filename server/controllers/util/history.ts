// ControllerRevisions (apps/v1) for DaemonSets and StatefulSets: one per distinct pod template,
// named `<owner>-<hash>`, holding the template as `data` and a monotonically increasing
// `revision`; `kubectl rollout history/undo` for these kinds read them.
import { R, isAlreadyExists, isNotFound, type ClusterClient, type Informer } from '../client';
import type { KubeObject } from '../types';
import { computeHash, ownerRefFor, stableJSON } from './pods';

export const CONTROLLER_REVISION_HASH = 'controller-revision-hash';

export function templateHash(owner: KubeObject): string {
  return computeHash(owner.spec?.template, owner.status?.collisionCount ?? 0);
}

/** The template patch a ControllerRevision stores (upstream: `{"spec":{"template":{..., "$patch":"replace"}}}`). */
export function revisionData(owner: KubeObject): any {
  return { spec: { template: { ...structuredClone(owner.spec?.template ?? {}), $patch: 'replace' } } };
}

export function ownedRevisions(inf: Informer, owner: KubeObject): KubeObject[] {
  return [...inf.store.byOwner(owner.metadata.uid!)].sort((a, b) => (a.revision ?? 0) - (b.revision ?? 0));
}

/**
 * Ensures the ControllerRevision for the owner's current template exists and is the newest;
 * returns it with its hash. Older revisions beyond `keep` are deleted.
 */
export async function syncRevisions(client: ClusterClient, inf: Informer, owner: KubeObject, apiVersion: string, kind: string, keep: number): Promise<{ hash: string; revision: KubeObject; all: KubeObject[] }> {
  const hash = templateHash(owner);
  const revs = ownedRevisions(inf, owner);
  const maxRev = revs.reduce((m, r) => Math.max(m, r.revision ?? 0), 0);
  const data = revisionData(owner);
  let cur = revs.find((r) => r.metadata.labels?.[CONTROLLER_REVISION_HASH] === hash && stableJSON(r.data) === stableJSON(data));
  if (cur) {
    if ((cur.revision ?? 0) < maxRev) {
      const next = structuredClone(cur);
      next.revision = maxRev + 1;
      cur = await client.update(R.controllerrevisions, next);
    }
  } else {
    const labels: Record<string, string> = { ...(owner.spec?.selector?.matchLabels ?? owner.spec?.template?.metadata?.labels ?? {}), [CONTROLLER_REVISION_HASH]: hash };
    try {
      cur = await client.create(R.controllerrevisions, owner.metadata.namespace!, {
        apiVersion: 'apps/v1', kind: 'ControllerRevision',
        metadata: { name: `${owner.metadata.name}-${hash}`, namespace: owner.metadata.namespace, labels, ownerReferences: [ownerRefFor(owner, apiVersion, kind)] },
        data, revision: maxRev + 1,
      });
    } catch (e) {
      if (!isAlreadyExists(e)) throw e;
      cur = await client.get(R.controllerrevisions, owner.metadata.namespace!, `${owner.metadata.name}-${hash}`);
    }
  }
  // Keep the newest `keep` old revisions plus the current one.
  const old = revs.filter((r) => r.metadata.name !== cur!.metadata.name).sort((a, b) => (a.revision ?? 0) - (b.revision ?? 0));
  for (const r of old.slice(0, Math.max(0, old.length - keep))) {
    try { await client.delete(R.controllerrevisions, r.metadata.namespace!, r.metadata.name!); } catch (e) { if (!isNotFound(e)) throw e; }
  }
  return { hash, revision: cur!, all: [...old.slice(Math.max(0, old.length - keep)), cur!] };
}
