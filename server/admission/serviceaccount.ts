// Upstream's ServiceAccount admission plugin for pod CREATE: default spec.serviceAccountName to
// `default`, refuse a pod whose ServiceAccount does not exist (403), mount the projected
// `kube-api-access-<suffix>` volume (bound token, cluster CA, namespace) into every container and
// init container unless automounting is off, copy the ServiceAccount's imagePullSecrets, and keep
// mirror pods away from ServiceAccounts and Secrets. ServiceAccounts come from an in-memory cache
// fed by the watch cache; only a miss reads the store (retried for `default`, which the
// ServiceAccounts controller creates a moment after its namespace, as upstream retries).
import { ApiError, forbiddenMessage, notFound } from '../apiserver/errors';
import { namespaceTerminating } from '../apiserver/namespace-cache';
import type { Registry } from '../apiserver/registry';
import type { ServiceAccountCache } from '../apiserver/serviceaccount-cache';

export const DEFAULT_SERVICE_ACCOUNT = 'default';
/** Where containers find token, ca.crt and namespace. */
export const API_TOKEN_MOUNT_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';
export const TOKEN_VOLUME_PREFIX = 'kube-api-access-';
export const MIRROR_POD_ANNOTATION = 'kubernetes.io/config.mirror';
/** A ServiceAccount annotated "true" limits the pod's Secret references to its own `secrets`. */
export const ENFORCE_MOUNTABLE_SECRETS_ANNOTATION = 'kubernetes.io/enforce-mountable-secrets';
/** Upstream's bound-token lifetime for pods: a little over an hour, so the kubelet refreshes before the hour. */
export const TOKEN_EXPIRATION_SECONDS = 3607;
/** The alphabet of upstream's generated names: no vowels, no look-alike digits. */
const NAME_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** The 5-character suffix upstream's SimpleNameGenerator appends. */
export function randomSuffix(): string {
  let s = '';
  for (let i = 0; i < 5; i++) s += NAME_ALPHABET[Math.floor(Math.random() * NAME_ALPHABET.length)];
  return s;
}

/** The projected volume source of the API access volume, fully defaulted (a fresh object each call). */
export function tokenVolumeSource(): any {
  return {
    defaultMode: 420,
    sources: [
      { serviceAccountToken: { expirationSeconds: TOKEN_EXPIRATION_SECONDS, path: 'token' } },
      { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
      { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
    ],
  };
}

/** The pod's own automountServiceAccountToken wins; then the ServiceAccount's; mounting is the default. */
export function shouldAutomount(sa: any, pod: any): boolean {
  const own = pod.spec?.automountServiceAccountToken;
  if (typeof own === 'boolean') return own;
  const sas = sa?.automountServiceAccountToken;
  if (typeof sas === 'boolean') return sas;
  return true;
}

/**
 * Mounts the API access volume read-only at API_TOKEN_MOUNT_PATH in every container and init
 * container that mounts nothing there; adds the volume (reusing an existing `kube-api-access-*`
 * one, like upstream) if any container took the mount. Ephemeral containers cannot exist at create.
 */
export function mountServiceAccountToken(pod: any, suffix: () => string = randomSuffix): void {
  const spec = pod.spec;
  const volumes: any[] = spec.volumes ?? [];
  const existing = volumes.find((v) => typeof v?.name === 'string' && v.name.startsWith(TOKEN_VOLUME_PREFIX));
  const name: string = existing?.name ?? `${TOKEN_VOLUME_PREFIX}${suffix()}`;
  let mounted = false;
  for (const list of [spec.initContainers, spec.containers]) {
    if (!Array.isArray(list)) continue;
    for (const c of list) {
      if (!c || typeof c !== 'object') continue;
      const mounts: any[] = c.volumeMounts ?? [];
      if (mounts.some((m) => m?.mountPath === API_TOKEN_MOUNT_PATH)) continue;
      c.volumeMounts = [...mounts, { name, readOnly: true, mountPath: API_TOKEN_MOUNT_PATH }];
      mounted = true;
    }
  }
  if (mounted && !existing) spec.volumes = [...volumes, { name, projected: tokenVolumeSource() }];
}

/** Every Secret name the pod refers to (pull secrets, env, envFrom, volume sources), as upstream's VisitPodSecretNames. */
export function podSecretNames(pod: any): string[] {
  const spec = pod.spec ?? {};
  const out: string[] = [];
  const add = (n: unknown) => { if (typeof n === 'string' && n) out.push(n); };
  for (const r of spec.imagePullSecrets ?? []) add(r?.name);
  for (const list of [spec.initContainers, spec.containers, spec.ephemeralContainers]) {
    for (const c of Array.isArray(list) ? list : []) {
      for (const e of c?.envFrom ?? []) add(e?.secretRef?.name);
      for (const e of c?.env ?? []) add(e?.valueFrom?.secretKeyRef?.name);
    }
  }
  for (const v of spec.volumes ?? []) {
    if (!v || typeof v !== 'object') continue;
    add(v.secret?.secretName);
    add(v.azureFile?.secretName);
    add(v.csi?.nodePublishSecretRef?.name);
    for (const s of v.projected?.sources ?? []) add(s?.secret?.name);
    // cephfs, cinder, flexVolume, iscsi, rbd, scaleIO, storageos: a secretRef in the source.
    for (const [key, src] of Object.entries(v)) if (key !== 'name' && src && typeof src === 'object') add((src as any).secretRef?.name);
  }
  return out;
}

/** Why a mirror pod is refused (it may reference no ServiceAccount, Secret or token projection), or undefined. */
export function mirrorPodViolation(pod: any): string | undefined {
  if (pod.spec?.serviceAccountName || pod.spec?.serviceAccount) return 'a mirror pod may not reference service accounts';
  if (podSecretNames(pod).length) return 'a mirror pod may not reference secrets';
  for (const v of pod.spec?.volumes ?? []) {
    if ((v?.projected?.sources ?? []).some((s: any) => s?.serviceAccountToken)) return 'a mirror pod may not use ServiceAccountToken volume projections';
  }
  return undefined;
}

/** With the enforce-mountable-secrets annotation: why the pod's Secret references exceed the ServiceAccount's, or undefined. */
export function secretReferenceViolation(sa: any, pod: any): string | undefined {
  if (String(sa.metadata?.annotations?.[ENFORCE_MOUNTABLE_SECRETS_ANNOTATION] ?? '').toLowerCase() !== 'true') return undefined;
  const saName = sa.metadata.name;
  const mountable = new Set((sa.secrets ?? []).map((s: any) => s?.name));
  const spec = pod.spec ?? {};
  for (const v of spec.volumes ?? []) {
    const n = v?.secret?.secretName;
    if (n && !mountable.has(n)) return `volume with secret.secretName="${n}" is not allowed because service account ${saName} does not reference that secret`;
  }
  const lists: Array<[string, any[] | undefined]> = [['init container', spec.initContainers], ['container', spec.containers], ['ephemeral container', spec.ephemeralContainers]];
  for (const [what, list] of lists) {
    for (const c of Array.isArray(list) ? list : []) {
      for (const e of c?.env ?? []) {
        const n = e?.valueFrom?.secretKeyRef?.name;
        if (n && !mountable.has(n)) return `${what} ${c.name} with envVar ${e.name} referencing secret.secretName="${n}" is not allowed because service account ${saName} does not reference that secret`;
      }
      for (const e of c?.envFrom ?? []) {
        const n = e?.secretRef?.name;
        if (n && !mountable.has(n)) return `${what} ${c.name} with envFrom referencing secret.secretName="${n}" is not allowed because service account ${saName} does not reference that secret`;
      }
    }
  }
  const pullable = new Set((sa.imagePullSecrets ?? []).map((s: any) => s?.name));
  const pulls: any[] = spec.imagePullSecrets ?? [];
  for (let i = 0; i < pulls.length; i++) {
    const n = pulls[i]?.name;
    if (!pullable.has(n)) return `imagePullSecrets[${i}].name="${n}" is not allowed because service account ${saName} does not reference that imagePullSecret`;
  }
  return undefined;
}

/** What the plugin does to a pod once its ServiceAccount is known: secret limits, the token mount, pull secrets. */
export function applyServiceAccount(pod: any, sa: any, suffix: () => string = randomSuffix): string | undefined {
  const refused = secretReferenceViolation(sa, pod);
  if (refused) return refused;
  if (shouldAutomount(sa, pod)) mountServiceAccountToken(pod, suffix);
  const spec = pod.spec;
  if (!spec.imagePullSecrets?.length && sa.imagePullSecrets?.length) {
    spec.imagePullSecrets = sa.imagePullSecrets.map((r: any) => ({ name: r?.name }));
  }
  return undefined;
}

/** The name admission errors carry before the registry generates one (upstream's extractResourceName). */
function podNameForErrors(pod: any): string {
  return pod.metadata?.name || pod.metadata?.generateName || 'Unknown';
}

export class ServiceAccountAdmission {
  constructor(private readonly registry: Registry, private readonly cache: ServiceAccountCache, private readonly retryDelayMs: () => number = () => 100 + Math.floor(Math.random() * 100)) {}

  /**
   * Admits a pod being created, mutating it in place; throws a 403 ApiError when it is refused.
   * Synchronous when the ServiceAccount is in the cache (every create but the first in a namespace);
   * a Promise otherwise.
   */
  admit(pod: any): void | Promise<void> {
    const spec = pod.spec ?? (pod.spec = {});
    const namespace: string = pod.metadata?.namespace;
    const forbid = (why: string) => forbiddenMessage('', 'pods', podNameForErrors(pod), why);
    if (pod.metadata?.annotations?.[MIRROR_POD_ANNOTATION] !== undefined) {
      // Never change a mirror pod: the kubelet deletes a mirror pod whose spec differs from its static pod.
      const refused = mirrorPodViolation(pod);
      if (refused) throw forbid(refused);
      return;
    }
    // spec.serviceAccount is the deprecated spelling; upstream's conversion reads it when the new one is unset and mirrors back.
    if (!spec.serviceAccountName) spec.serviceAccountName = spec.serviceAccount || DEFAULT_SERVICE_ACCOUNT;
    spec.serviceAccount = spec.serviceAccountName;
    const name: string = spec.serviceAccountName;
    return this.withServiceAccount(namespace, name, forbid, (sa) => applyServiceAccount(pod, sa));
  }

  /**
   * Runs `check` on the ServiceAccount (from the cache, or read live on a miss): a missing one, or a
   * refusal `check` returns, is a 403 made by `forbid`. Synchronous on a cache hit.
   */
  private withServiceAccount(namespace: string, name: string, forbid: (why: string) => Error, check: (sa: any) => string | undefined): void | Promise<void> {
    const run = (sa: any): void => {
      const refused = check(sa);
      if (refused) throw forbid(refused);
    };
    const cached = this.cache.lookup(namespace, name);
    if (cached) return run(cached);
    return this.lookupLive(namespace, name).then((sa) => {
      if (!sa) throw forbid(`error looking up service account ${namespace}/${name}: serviceaccount "${name}" not found`);
      run(sa);
    });
  }

  /**
   * Upstream's check on a pods/ephemeralcontainers update (`pod` is the updated pod): it must name
   * a ServiceAccount that exists, and with enforce-mountable-secrets its ephemeral containers may
   * refer only to the ServiceAccount's Secrets. Throws a 403 ApiError; a Promise only on a cache miss.
   */
  validateEphemeralContainers(pod: any): void | Promise<void> {
    const namespace: string = pod.metadata?.namespace;
    const name: string | undefined = pod.spec?.serviceAccountName;
    const forbid = (why: string) => forbiddenMessage('', 'pods', podNameForErrors(pod), why);
    if (!name) throw forbid(`no service account specified for pod ${namespace}/${pod.metadata?.name ?? ''}`);
    return this.withServiceAccount(namespace, name, forbid, (sa) => secretReferenceViolation(sa, { spec: { ephemeralContainers: pod.spec.ephemeralContainers } }));
  }

  /**
   * The miss path: the store, once (ten times, 100-200 ms apart, for `default`, which its controller
   * creates right after the namespace). A missing or terminating namespace answers first, as
   * upstream's NamespaceLifecycle plugin runs before this one.
   */
  private async lookupLive(namespace: string, name: string): Promise<any | undefined> {
    const attempts = name === DEFAULT_SERVICE_ACCOUNT ? 10 : 1;
    const delay = this.retryDelayMs();
    for (let i = 0; i < attempts; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, delay));
      const sa = this.cache.lookup(namespace, name) ?? await this.cache.read(namespace, name);
      if (sa) return sa;
      if (i === 0) await this.checkNamespace(namespace);
    }
    return undefined;
  }

  private async checkNamespace(namespace: string): Promise<void> {
    let terminating = this.registry.namespaces.lookup(namespace)?.terminating;
    if (terminating === undefined) {
      const kv = await this.registry.store.get(`/registry/namespaces/${namespace}`);
      if (!kv) throw notFound('', 'namespaces', namespace);
      terminating = namespaceTerminating(JSON.parse(kv.value.toString('utf8')));
    }
    if (terminating) {
      throw new ApiError(403, 'Forbidden', `pods is forbidden: unable to create new content in namespace ${namespace} because it is being terminated`, {
        kind: 'pods', causes: [{ reason: 'NamespaceTerminating', message: `namespace ${namespace} is being terminated`, field: 'metadata.namespace' }],
      });
    }
  }
}
