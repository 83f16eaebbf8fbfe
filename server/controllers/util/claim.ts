// ControllerRefManager: an owner claims the objects its selector matches (adopting orphans by
// patching in a controller ownerReference) and releases owned objects it no longer selects.
import type { ClusterClient, ResourceRef } from '../client';
import { isNotFound } from '../client';
import type { Selector } from '../selectors';
import { controllerRef, type KubeObject, type OwnerReference } from '../types';

export async function claimObjects(client: ClusterClient, r: ResourceRef, owner: KubeObject, ownerRef: OwnerReference,
  selector: Selector, candidates: KubeObject[], canAdopt: boolean): Promise<KubeObject[]> {
  const claimed: KubeObject[] = [];
  for (const o of candidates) {
    const ref = controllerRef(o);
    const matches = selector.matches(o.metadata.labels);
    if (ref) {
      if (ref.uid !== owner.metadata.uid) continue;
      if (matches) { claimed.push(o); continue; }
      if (owner.metadata.deletionTimestamp) continue;
      // Release: drop our reference, guarded by uid so we never touch a re-created namesake.
      try {
        await client.patch(r, o.metadata.namespace!, o.metadata.name!, 'json', [
          { op: 'test', path: '/metadata/uid', value: o.metadata.uid },
          { op: 'add', path: '/metadata/ownerReferences', value: (o.metadata.ownerReferences ?? []).filter((x) => x.uid !== owner.metadata.uid) },
        ]);
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
      continue;
    }
    if (!matches || !canAdopt || owner.metadata.deletionTimestamp || o.metadata.deletionTimestamp) continue;
    try {
      const adopted = await client.patch(r, o.metadata.namespace!, o.metadata.name!, 'json', [
        { op: 'test', path: '/metadata/uid', value: o.metadata.uid },
        { op: 'add', path: '/metadata/ownerReferences', value: [...(o.metadata.ownerReferences ?? []), ownerRef] },
      ]);
      claimed.push(adopted);
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }
  return claimed;
}
