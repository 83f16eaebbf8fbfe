// The ServiceAccount admission plugin: its pure parts (the token mount, automount precedence,
// mirror-pod and mountable-secret rules) and the plugin over a real store, watch cache, registry
// and ServiceAccountCache (cache hits are synchronous, a miss reads the store, `default` is
// retried until its controller creates it, a missing namespace answers first).
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore, type LogStore } from '../../embedded-store';
import { Registry } from '../../server/apiserver/registry';
import { ServiceAccountCache } from '../../server/apiserver/serviceaccount-cache';
import {
  API_TOKEN_MOUNT_PATH, ServiceAccountAdmission, applyServiceAccount, mirrorPodViolation, mountServiceAccountToken,
  podSecretNames, randomSuffix, secretReferenceViolation, shouldAutomount, tokenVolumeSource,
} from '../../server/admission/serviceaccount';
import { waitForValue } from './helpers/wait';

const MOUNT = { name: 'kube-api-access-abcde', readOnly: true, mountPath: API_TOKEN_MOUNT_PATH };
const fixed = () => 'abcde';
const pod = (spec: Record<string, unknown> = {}, metadata: Record<string, unknown> = {}): any => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'ns', ...metadata }, spec: { containers: [{ name: 'c', image: 'busybox' }], ...spec },
});

describe('mountServiceAccountToken', () => {
  it('adds the projected volume and a read-only mount to init containers and containers', () => {
    const p = pod({ initContainers: [{ name: 'i', image: 'busybox' }] });
    mountServiceAccountToken(p, fixed);
    expect(p.spec.volumes).toEqual([{ name: 'kube-api-access-abcde', projected: tokenVolumeSource() }]);
    expect(p.spec.initContainers[0].volumeMounts).toEqual([MOUNT]);
    expect(p.spec.containers[0].volumeMounts).toEqual([MOUNT]);
    expect(tokenVolumeSource().sources[0]).toEqual({ serviceAccountToken: { expirationSeconds: 3607, path: 'token' } });
  }, 5_000);

  it('leaves containers that mount something at the path alone, and adds no volume when none needs it', () => {
    const own = { name: 'mine', mountPath: API_TOKEN_MOUNT_PATH };
    const p = pod({ containers: [{ name: 'a', volumeMounts: [own] }, { name: 'b' }], volumes: [{ name: 'mine', emptyDir: {} }] });
    mountServiceAccountToken(p, fixed);
    expect(p.spec.containers[0].volumeMounts).toEqual([own]);
    expect(p.spec.containers[1].volumeMounts).toEqual([MOUNT]);
    expect(p.spec.volumes.map((v: any) => v.name)).toEqual(['mine', 'kube-api-access-abcde']);
    const none = pod({ containers: [{ name: 'a', volumeMounts: [own] }], volumes: [{ name: 'mine', emptyDir: {} }] });
    mountServiceAccountToken(none, fixed);
    expect(none.spec.volumes).toEqual([{ name: 'mine', emptyDir: {} }]);
  }, 5_000);

  it('reuses a kube-api-access-* volume the pod already has', () => {
    const p = pod({ volumes: [{ name: 'kube-api-access-zzzzz', projected: tokenVolumeSource() }] });
    mountServiceAccountToken(p, fixed);
    expect(p.spec.volumes).toHaveLength(1);
    expect(p.spec.containers[0].volumeMounts).toEqual([{ ...MOUNT, name: 'kube-api-access-zzzzz' }]);
  }, 5_000);

  it('generates upstream-style suffixes', () => {
    for (let i = 0; i < 50; i++) expect(randomSuffix()).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  }, 5_000);
});

describe('automount, mirror pods and mountable secrets', () => {
  it('lets the pod decide, then the ServiceAccount, and mounts by default', () => {
    const sa = (v?: boolean) => ({ metadata: { name: 'sa' }, ...(v === undefined ? {} : { automountServiceAccountToken: v }) });
    expect(shouldAutomount(sa(), pod())).toBe(true);
    expect(shouldAutomount(sa(false), pod())).toBe(false);
    expect(shouldAutomount(sa(false), pod({ automountServiceAccountToken: true }))).toBe(true);
    expect(shouldAutomount(sa(true), pod({ automountServiceAccountToken: false }))).toBe(false);
  }, 5_000);

  it('finds every Secret a pod refers to and refuses mirror pods that use any', () => {
    const p = pod({
      imagePullSecrets: [{ name: 'pull' }],
      containers: [{ name: 'c', env: [{ name: 'E', valueFrom: { secretKeyRef: { name: 'env', key: 'k' } } }], envFrom: [{ secretRef: { name: 'from' } }] }],
      volumes: [{ name: 'a', secret: { secretName: 'vol' } }, { name: 'b', projected: { sources: [{ secret: { name: 'proj' } }] } }, { name: 'c', rbd: { secretRef: { name: 'rbd' } } }, { name: 'd', csi: { driver: 'x', nodePublishSecretRef: { name: 'csi' } } }],
    });
    expect(podSecretNames(p).sort()).toEqual(['csi', 'env', 'from', 'proj', 'pull', 'rbd', 'vol']);
    expect(mirrorPodViolation(p)).toBe('a mirror pod may not reference secrets');
    expect(mirrorPodViolation(pod({ serviceAccountName: 'default' }))).toBe('a mirror pod may not reference service accounts');
    expect(mirrorPodViolation(pod({ volumes: [{ name: 't', projected: { sources: [{ serviceAccountToken: { path: 'token' } }] } }] }))).toBe('a mirror pod may not use ServiceAccountToken volume projections');
    expect(mirrorPodViolation(pod())).toBeUndefined();
  }, 5_000);

  it('limits Secret references only for a ServiceAccount with enforce-mountable-secrets', () => {
    const sa = { metadata: { name: 'builder', annotations: { 'kubernetes.io/enforce-mountable-secrets': 'true' } }, secrets: [{ name: 'ok' }], imagePullSecrets: [{ name: 'pull-ok' }] };
    expect(secretReferenceViolation(sa, pod({ volumes: [{ name: 'v', secret: { secretName: 'ok' } }], imagePullSecrets: [{ name: 'pull-ok' }] }))).toBeUndefined();
    expect(secretReferenceViolation(sa, pod({ volumes: [{ name: 'v', secret: { secretName: 'other' } }] })))
      .toBe('volume with secret.secretName="other" is not allowed because service account builder does not reference that secret');
    expect(secretReferenceViolation(sa, pod({ initContainers: [{ name: 'i', env: [{ name: 'E', valueFrom: { secretKeyRef: { name: 'x', key: 'k' } } }] }] })))
      .toBe('init container i with envVar E referencing secret.secretName="x" is not allowed because service account builder does not reference that secret');
    expect(secretReferenceViolation(sa, pod({ containers: [{ name: 'c', envFrom: [{ secretRef: { name: 'y' } }] }] })))
      .toBe('container c with envFrom referencing secret.secretName="y" is not allowed because service account builder does not reference that secret');
    expect(secretReferenceViolation(sa, pod({ imagePullSecrets: [{ name: 'pull-ok' }, { name: 'nope' }] })))
      .toBe('imagePullSecrets[1].name="nope" is not allowed because service account builder does not reference that imagePullSecret');
    expect(secretReferenceViolation({ metadata: { name: 'plain' } }, pod({ volumes: [{ name: 'v', secret: { secretName: 'other' } }] }))).toBeUndefined();
  }, 5_000);

  it('copies the ServiceAccount\'s pull secrets only to a pod without its own', () => {
    const sa = { metadata: { name: 'sa' }, imagePullSecrets: [{ name: 'regcred' }] };
    const a = pod();
    expect(applyServiceAccount(a, sa, fixed)).toBeUndefined();
    expect(a.spec.imagePullSecrets).toEqual([{ name: 'regcred' }]);
    const b = pod({ imagePullSecrets: [{ name: 'mine' }] });
    applyServiceAccount(b, sa, fixed);
    expect(b.spec.imagePullSecrets).toEqual([{ name: 'mine' }]);
  }, 5_000);
});

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => { for (const c of cleanups.splice(0).reverse()) await c(); });

async function setup(): Promise<{ store: LogStore; cache: ServiceAccountCache; plugin: ServiceAccountAdmission }> {
  const dir = mkdtempSync(join(tmpdir(), 'orch-test-saadmission-'));
  const store = await openSqliteStore({ path: join(dir, 'state.db'), compactIntervalMs: 0 });
  const registry = new Registry(store, () => undefined);
  const cache = new ServiceAccountCache(store, registry.watchCache);
  const plugin = new ServiceAccountAdmission(registry, cache, () => 20);
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }), () => store.close(), () => registry.watchCache.stop(), () => cache.stop(), () => registry.namespaces.stop());
  return { store, cache, plugin };
}

const json = (o: unknown): Buffer => Buffer.from(JSON.stringify(o));
const saBytes = (ns: string, name: string, extra: Record<string, unknown> = {}) => json({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace: ns }, ...extra });

describe('ServiceAccountAdmission over a real store', () => {
  it('answers synchronously from the cache once synced, and follows creates and deletes', async () => {
    const { store, cache, plugin } = await setup();
    await store.create('/registry/namespaces/ns', json({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ns' } }));
    await store.create('/registry/serviceaccounts/ns/default', saBytes('ns', 'default'));
    // Before the sync the first pod reads the store (a Promise); then the cache answers in the same tick.
    const first = pod();
    await plugin.admit(first);
    expect(first.spec.serviceAccountName).toBe('default');
    await waitForValue(() => cache.lookup('ns', 'default'), 5000, 'the cache to sync');
    const second = pod({ initContainers: [{ name: 'i' }] });
    expect(plugin.admit(second)).toBeUndefined();
    expect(second.spec).toMatchObject({ serviceAccountName: 'default', serviceAccount: 'default' });
    expect(second.spec.volumes[0].name).toMatch(/^kube-api-access-/);
    expect(second.spec.initContainers[0].volumeMounts[0].mountPath).toBe(API_TOKEN_MOUNT_PATH);
    await store.create('/registry/serviceaccounts/ns/builder', saBytes('ns', 'builder', { automountServiceAccountToken: false }));
    await waitForValue(() => cache.lookup('ns', 'builder'), 5000, 'the created ServiceAccount');
    const built = pod({ serviceAccount: 'builder' });
    expect(plugin.admit(built)).toBeUndefined();
    // The deprecated field is read when the new one is unset, and both end up equal.
    expect(built.spec).toMatchObject({ serviceAccountName: 'builder', serviceAccount: 'builder' });
    expect(built.spec.volumes).toBeUndefined();
    await store.delete('/registry/serviceaccounts/ns/builder');
    await waitForValue(() => (cache.lookup('ns', 'builder') ? undefined : true), 5000, 'the deleted ServiceAccount to go');
    await expect(plugin.admit(pod({ serviceAccountName: 'builder' }))).rejects.toMatchObject({
      httpStatus: 403, reason: 'Forbidden', message: 'pods "p" is forbidden: error looking up service account ns/builder: serviceaccount "builder" not found',
    });
  }, 15_000);

  it('retries `default` until its controller creates it, and answers a missing namespace at once', async () => {
    const { store, plugin } = await setup();
    await store.create('/registry/namespaces/fresh', json({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'fresh' } }));
    const p = pod({}, { namespace: 'fresh', name: undefined, generateName: 'web-' });
    const admitted = plugin.admit(p);
    setTimeout(() => { void store.create('/registry/serviceaccounts/fresh/default', saBytes('fresh', 'default')); }, 50);
    await admitted;
    expect(p.spec.serviceAccountName).toBe('default');
    // Never created: refused after the retries, named by generateName as upstream does before a name exists.
    await store.create('/registry/namespaces/empty', json({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'empty' } }));
    await expect(plugin.admit(pod({}, { namespace: 'empty', name: undefined, generateName: 'web-' }))).rejects.toMatchObject({
      httpStatus: 403, message: 'pods "web-" is forbidden: error looking up service account empty/default: serviceaccount "default" not found',
    });
    const t0 = Date.now();
    await expect(plugin.admit(pod({}, { namespace: 'gone' }))).rejects.toMatchObject({ httpStatus: 404, message: 'namespaces "gone" not found' });
    expect(Date.now() - t0).toBeLessThan(100);
  }, 15_000);

  it('checks a pods/ephemeralcontainers update against the pod\'s ServiceAccount', async () => {
    const { store, cache, plugin } = await setup();
    await store.create('/registry/namespaces/ns', json({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ns' } }));
    await store.create('/registry/serviceaccounts/ns/strict', saBytes('ns', 'strict', { metadata: { name: 'strict', namespace: 'ns', annotations: { 'kubernetes.io/enforce-mountable-secrets': 'true' } }, secrets: [{ name: 'ok' }] }));
    await waitForValue(() => cache.lookup('ns', 'strict'), 5000, 'the cache to sync');
    const debug = (secret: string) => pod({ serviceAccountName: 'strict', ephemeralContainers: [{ name: 'debugger', image: 'busybox', envFrom: [{ secretRef: { name: secret } }] }] });
    expect(plugin.validateEphemeralContainers(debug('ok'))).toBeUndefined();
    expect(() => plugin.validateEphemeralContainers(debug('other')))
      .toThrow('pods "p" is forbidden: ephemeral container debugger with envFrom referencing secret.secretName="other" is not allowed because service account strict does not reference that secret');
    expect(() => plugin.validateEphemeralContainers(pod({ ephemeralContainers: [] })))
      .toThrow('pods "p" is forbidden: no service account specified for pod ns/p');
    await expect(plugin.validateEphemeralContainers(pod({ serviceAccountName: 'gone' }))).rejects.toMatchObject({ httpStatus: 403 });
  }, 15_000);

  it('leaves mirror pods unchanged and refuses those that reference a ServiceAccount', async () => {
    const { plugin } = await setup();
    const mirror = pod({ nodeName: 'n1' }, { annotations: { 'kubernetes.io/config.mirror': 'x' } });
    const before = structuredClone(mirror);
    expect(plugin.admit(mirror)).toBeUndefined();
    expect(mirror).toEqual(before);
    expect(() => plugin.admit(pod({ serviceAccountName: 'default' }, { annotations: { 'kubernetes.io/config.mirror': 'x' } })))
      .toThrow('pods "p" is forbidden: a mirror pod may not reference service accounts');
  }, 15_000);
});
