// pods/binding and the legacy namespaced `bindings`, as upstream's BindingREST: one store write
// sets spec.nodeName, copies the Binding's annotations and sets PodScheduled=True. Like upstream it
// writes the pod directly (no pod validation, no managedFields entry: upstream's field manager runs
// on the Binding object, never on the pod), which keeps the scheduler's hottest write cheap.
import { ApiError, badRequest } from './errors';
import { nowRfc3339, type Registry } from './registry';
import type { WriteContext } from './types';

/** The PodScheduled=True condition upstream's UpdatePodCondition leaves: lastTransitionTime moves only when the status changes. */
export function podScheduledTrue(conditions: any[] | undefined, now: string): any[] {
  const list = conditions ?? [];
  const i = list.findIndex((c: any) => c?.type === 'PodScheduled');
  const keepTime = i >= 0 && list[i].status === 'True' && list[i].lastTransitionTime;
  const cond = { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: keepTime || now };
  if (i < 0) return [...list, cond];
  const out = list.slice();
  out[i] = cond;
  return out;
}

/**
 * Binds a pod to `binding.target.name`. Throws 422 without a target, 404 for a missing pod, 409
 * when the pod is being deleted, already bound, or has another UID than `binding.metadata.uid`.
 * Honours ctx.dryRun (nothing is written).
 */
export async function bindPod(registry: Registry, namespace: string | undefined, podName: string, binding: any, ctx: WriteContext): Promise<void> {
  const node = binding?.target?.name;
  if (!node) throw new ApiError(422, 'Invalid', `Binding "${podName}" is invalid: target.name: Required value`, { kind: 'Binding', name: podName, causes: [{ reason: 'FieldValueRequired', field: 'target.name', message: 'Required value' }] });
  const refused = (why: string) => new ApiError(409, 'Conflict', `Operation cannot be fulfilled on pods/binding "${podName}": ${why}`, { name: podName, kind: 'pods/binding' });
  const wantUid = binding?.metadata?.uid;
  const annotations = binding?.metadata?.annotations;
  await registry.guaranteedUpdate(registry.resource('', 'pods'), namespace, podName, async (pod) => {
    if (!pod) throw new ApiError(404, 'NotFound', `pods "${podName}" not found`, { name: podName, kind: 'pods' });
    if (wantUid && pod.metadata.uid !== wantUid) throw refused(`Precondition failed: UID in precondition: ${wantUid}, UID in object meta: ${pod.metadata.uid}`);
    if (pod.metadata.deletionTimestamp) throw refused(`pod ${podName} is being deleted, cannot be assigned to a host`);
    if (pod.spec?.nodeName) throw refused(`pod ${podName} is already assigned to node "${pod.spec.nodeName}"`);
    pod.spec.nodeName = node;
    if (annotations && Object.keys(annotations).length) pod.metadata.annotations = { ...(pod.metadata.annotations ?? {}), ...annotations };
    pod.status = { ...(pod.status ?? {}), conditions: podScheduledTrue(pod.status?.conditions, nowRfc3339()) };
    return pod;
  }, ctx, 'binding');
}

/**
 * A Binding POSTed to `pods/<name>/binding` (urlName set: the Binding must carry the same name, or
 * 400 like upstream) or to the namespace's `bindings` collection (urlName undefined: the pod is the
 * one the Binding names). Both routes, HTTP and in-process, end in bindPod().
 */
export async function createBinding(registry: Registry, namespace: string | undefined, urlName: string | undefined, binding: any, ctx: WriteContext): Promise<void> {
  const bodyName = binding?.metadata?.name;
  if (urlName !== undefined && bodyName !== urlName) throw badRequest('name in URL does not match name in Binding object');
  if (!bodyName) throw new ApiError(422, 'Invalid', 'Binding "" is invalid: metadata.name: Required value: name or generateName is required', { kind: 'Binding', name: '', causes: [{ reason: 'FieldValueRequired', field: 'metadata.name', message: 'Required value: name or generateName is required' }] });
  const bodyNamespace = binding?.metadata?.namespace;
  if (bodyNamespace && namespace && bodyNamespace !== namespace) throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
  await bindPod(registry, namespace, bodyName, binding, ctx);
}
