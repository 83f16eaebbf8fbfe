// PodPreset admission (settings.k8s.io/v1alpha1, from the seed notes): at pod creation, every
// PodPreset in the pod's namespace whose selector matches the pod's labels injects its env,
// envFrom, volumes and volumeMounts; the pod records each as the annotation
// `podpreset.admission.kubernetes.io/podpreset-<name>: <resourceVersion>`. When presets conflict
// with the pod or with each other (same env name / volume name / mount path with different
// content), none is applied, as upstream does.
//
// Seam for the server core: on pod CREATE (mutating admission, before validation) call
//   const r = applyPodPresets(pod, presetsInNamespace);  pod = r.pod;
// and, if r.conflict is set, record a Warning event or log it — the pod is still admitted.
import { fromLabelSelector } from '../controllers/selectors';

export const EXCLUDE_ANNOTATION = 'podpreset.admission.kubernetes.io/exclude';
export const ANNOTATION_PREFIX = 'podpreset.admission.kubernetes.io/podpreset-';

export interface PodPresetResult {
  /** The pod to store (a new object; the input is not modified). */
  pod: any;
  /** Names of the presets applied. */
  applied: string[];
  /** Why nothing was applied, when presets conflicted. */
  conflict?: string;
  /** The presets that matched the pod (with a conflict, none of them was applied). */
  matched?: string[];
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

function mergeByKey<T extends Record<string, any>>(base: T[] | undefined, add: T[] | undefined, key: keyof T, what: string, errs: string[]): T[] {
  const out = [...(base ?? [])];
  for (const item of add ?? []) {
    const cur = out.find((x) => x[key] === item[key]);
    if (!cur) { out.push(structuredClone(item)); continue; }
    if (!same(cur, item)) errs.push(`merging ${what} for ${String(item[key])} has a conflict`);
  }
  return out;
}

/** Applies the matching presets to a pod being created. Pure: returns a new pod. */
export function applyPodPresets(pod: any, presets: any[]): PodPresetResult {
  if (pod?.metadata?.annotations?.[EXCLUDE_ANNOTATION] === 'true') return { pod, applied: [] };
  const ns = pod.metadata?.namespace;
  const matching = presets
    .filter((p) => (p.metadata?.namespace ?? ns) === ns)
    .filter((p) => {
      try { return fromLabelSelector(p.spec?.selector ?? {}).matches(pod.metadata?.labels); } catch { return false; }
    })
    .sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1));
  if (!matching.length) return { pod, applied: [] };
  const out = structuredClone(pod);
  const errs: string[] = [];
  out.spec.volumes = mergeByKey(out.spec.volumes, matching.flatMap((p) => p.spec?.volumes ?? []), 'name', 'volumes', errs);
  if (!out.spec.volumes.length) delete out.spec.volumes;
  for (const list of ['containers', 'initContainers'] as const) {
    for (const c of out.spec[list] ?? []) {
      c.env = mergeByKey(c.env, matching.flatMap((p) => p.spec?.env ?? []), 'name', 'env', errs);
      if (!c.env.length) delete c.env;
      const envFrom = [...(c.envFrom ?? [])];
      for (const e of matching.flatMap((p) => p.spec?.envFrom ?? [])) if (!envFrom.some((x) => same(x, e))) envFrom.push(structuredClone(e));
      if (envFrom.length) c.envFrom = envFrom;
      c.volumeMounts = mergeByKey(c.volumeMounts, matching.flatMap((p) => p.spec?.volumeMounts ?? []), 'mountPath', 'volume mounts', errs);
      if (!c.volumeMounts.length) delete c.volumeMounts;
    }
  }
  if (errs.length) return { pod, applied: [], conflict: [...new Set(errs)].join('; '), matched: matching.map((p) => p.metadata.name) };
  out.metadata.annotations = { ...(out.metadata.annotations ?? {}) };
  for (const p of matching) out.metadata.annotations[`${ANNOTATION_PREFIX}${p.metadata.name}`] = String(p.metadata.resourceVersion ?? '');
  return { pod: out, applied: matching.map((p) => p.metadata.name) };
}
