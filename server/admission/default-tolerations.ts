// DefaultTolerationSeconds admission (upstream's plugin of that name): a pod created without its
// own toleration of the not-ready / unreachable NoExecute taints gets one for 300 s, so the node
// lifecycle controller evicts it 5 minutes after its node goes away instead of at once.
export const NOT_READY_TAINT = 'node.kubernetes.io/not-ready';
export const UNREACHABLE_TAINT = 'node.kubernetes.io/unreachable';
/** Upstream's --default-not-ready-toleration-seconds / --default-unreachable-toleration-seconds. */
export const DEFAULT_TOLERATION_SECONDS = 300;

/** Whether a toleration covers `key`'s NoExecute taint in upstream's sense: that key or any key, NoExecute or any effect. */
function covers(t: any, key: string): boolean {
  return (t?.key === key || !t?.key) && (t?.effect === 'NoExecute' || !t?.effect);
}

/** Adds the two default tolerations to a pod being created, in place, unless it already has them. */
export function addDefaultTolerations(pod: any, seconds = DEFAULT_TOLERATION_SECONDS): void {
  if (!pod?.spec) return;
  const tolerations: any[] = pod.spec.tolerations ?? [];
  const add: any[] = [];
  for (const key of [NOT_READY_TAINT, UNREACHABLE_TAINT]) {
    if (!tolerations.some((t) => covers(t, key))) add.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: seconds });
  }
  if (add.length) pod.spec.tolerations = [...tolerations, ...add];
}
