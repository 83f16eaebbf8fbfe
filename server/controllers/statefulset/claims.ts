// StatefulSet spec.persistentVolumeClaimRetentionPolicy (GA in 1.32): which owner a claim made from
// a volumeClaimTemplate carries, so the garbage collector deletes it with the set (whenDeleted:
// Delete -> controller reference to the StatefulSet) or with its scaled-down pod (whenScaled:
// Delete, ordinal >= replicas -> controller reference to the Pod). Follows upstream's
// stateful_set_utils.go claim-ownership rules: stale references (right name, wrong uid) and other
// controllers are left alone, our own references are scrubbed and re-added as controllers.
import type { KubeObject, OwnerReference } from '../types';

export type RetentionPolicyType = 'Retain' | 'Delete';

export interface ClaimRetentionPolicy {
  whenDeleted: RetentionPolicyType;
  whenScaled: RetentionPolicyType;
}

/** The set's policy with upstream's defaults (Retain for both; unknown values are treated as Retain). */
export function retentionPolicy(set: KubeObject): ClaimRetentionPolicy {
  const p = set.spec?.persistentVolumeClaimRetentionPolicy ?? {};
  return { whenDeleted: p.whenDeleted === 'Delete' ? 'Delete' : 'Retain', whenScaled: p.whenScaled === 'Delete' ? 'Delete' : 'Retain' };
}

interface Owner { apiVersion: string; kind: string; obj: KubeObject }

const setOwner = (set: KubeObject): Owner => ({ apiVersion: 'apps/v1', kind: 'StatefulSet', obj: set });
const podOwner = (pod: KubeObject): Owner => ({ apiVersion: 'v1', kind: 'Pod', obj: pod });

const refs = (claim: KubeObject): OwnerReference[] => claim.metadata.ownerReferences ?? [];
const matchesRef = (r: OwnerReference, o: Owner) => r.apiVersion === o.apiVersion && r.kind === o.kind && r.name === o.obj.metadata.name;
const hasOwnerRef = (claim: KubeObject, o: Owner) => refs(claim).some((r) => r.uid === o.obj.metadata.uid);

/** A reference naming the owner but with another uid: the claim belongs to an earlier incarnation. */
function hasStaleOwnerRef(claim: KubeObject, o: Owner): boolean {
  const r = refs(claim).find((x) => matchesRef(x, o));
  return !!r && r.uid !== o.obj.metadata.uid;
}

/** Under a Delete policy, a controller of the claim that is neither this set nor this pod. */
function hasUnexpectedController(claim: KubeObject, set: Owner, pod: Owner): boolean {
  const p = retentionPolicy(set.obj);
  if (p.whenDeleted === 'Retain' && p.whenScaled === 'Retain') return false;
  for (const r of refs(claim)) {
    if (matchesRef(r, set)) { if (r.uid !== set.obj.metadata.uid) return true; continue; }
    if (matchesRef(r, pod)) { if (r.uid !== pod.obj.metadata.uid) return true; continue; }
    if (r.controller) return true;
  }
  return false;
}

function hasNonControllerOwner(claim: KubeObject, set: Owner, pod: Owner): boolean {
  return refs(claim).some((r) => (r.uid === set.obj.metadata.uid || r.uid === pod.obj.metadata.uid) && !r.controller);
}

/** Which of set and pod should own the claim under the set's policy (scaledDown: the pod's ordinal >= replicas). */
function wantedOwners(set: KubeObject, scaledDown: boolean): { set: boolean; pod: boolean } {
  const p = retentionPolicy(set);
  if (p.whenScaled === 'Retain') return { set: p.whenDeleted === 'Delete', pod: false };
  if (p.whenDeleted === 'Retain') return { set: false, pod: scaledDown };
  return { set: !scaledDown, pod: scaledDown };
}

/**
 * Whether the claim's owner references already agree with the policy for this pod (upstream
 * isClaimOwnerUpToDate). Claims with stale references, or with another controller and none of
 * ours, count as up to date so they are never touched.
 */
export function isClaimOwnerUpToDate(claim: KubeObject, set: KubeObject, pod: KubeObject, scaledDown: boolean): boolean {
  const s = setOwner(set), p = podOwner(pod);
  if (hasStaleOwnerRef(claim, s) || hasStaleOwnerRef(claim, p)) return true;
  if (hasUnexpectedController(claim, s, p)) return !(hasOwnerRef(claim, s) || hasOwnerRef(claim, p));
  if (hasNonControllerOwner(claim, s, p)) return false;
  const want = wantedOwners(set, scaledDown);
  return want.set === hasOwnerRef(claim, s) && want.pod === hasOwnerRef(claim, p);
}

function controllerRefTo(o: Owner): OwnerReference {
  return { apiVersion: o.apiVersion, kind: o.kind, name: o.obj.metadata.name!, uid: o.obj.metadata.uid!, controller: true, blockOwnerDeletion: true };
}

/**
 * Rewrites claim.metadata.ownerReferences in place for the policy (upstream
 * updateClaimOwnerRefForSetAndPod): our references are scrubbed, then the set and/or pod is added
 * as controller; with another controller present none is added. A pod without a uid (not created
 * yet) is never added.
 */
export function updateClaimOwnerRefs(claim: KubeObject, set: KubeObject, pod: KubeObject, scaledDown: boolean): void {
  const s = setOwner(set), p = podOwner(pod);
  const unexpected = hasUnexpectedController(claim, s, p);
  const kept = refs(claim).filter((r) => !matchesRef(r, s) && !matchesRef(r, p));
  if (!unexpected) {
    const want = wantedOwners(set, scaledDown);
    if (want.set && set.metadata.uid) kept.push(controllerRefTo(s));
    if (want.pod && pod.metadata.uid) kept.push(controllerRefTo(p));
  }
  if (kept.length) claim.metadata.ownerReferences = kept;
  else delete claim.metadata.ownerReferences;
}

/**
 * Whether a template claim of the pod about to be created still belongs to an earlier pod of the
 * same name (whenScaled Delete only; upstream PodClaimIsStale): the garbage collector is about to
 * delete it, so the pod must wait rather than mount it. `pod` has no uid before creation.
 */
export function isClaimStale(claim: KubeObject, set: KubeObject, pod: KubeObject): boolean {
  if (retentionPolicy(set).whenScaled !== 'Delete') return false;
  return hasStaleOwnerRef(claim, podOwner(pod));
}
