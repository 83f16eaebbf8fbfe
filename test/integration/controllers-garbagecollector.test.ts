// The garbage collector in a real `orch server`, driven by the real kubectl: foreground cascading
// deletion of a custom resource (its ConfigMap goes first, then the CR) and of an Ingress, kinds
// the collector's old fixed list did not cover.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCluster, waitFor, type TestCluster } from './helpers/cluster';

let c: TestCluster;

beforeAll(async () => { c = await startTestCluster(); }, 60_000);
afterAll(async () => { await c?.stop(); }, 60_000);

const CRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: gizmos.gc.example.com}
spec:
  group: gc.example.com
  scope: Namespaced
  names: {plural: gizmos, singular: gizmo, kind: Gizmo}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {type: object, x-kubernetes-preserve-unknown-fields: true}
`;

function ownedConfigMap(name: string, owner: { apiVersion: string; kind: string; name: string; uid: string }): string {
  return `apiVersion: v1
kind: ConfigMap
metadata:
  name: "${name}"
  namespace: default
  ownerReferences:
  - {apiVersion: ${owner.apiVersion}, kind: ${owner.kind}, name: "${owner.name}", uid: ${owner.uid}, blockOwnerDeletion: true, controller: true}
data: {k: v}
`;
}

async function exists(args: string[]): Promise<boolean> {
  const r = await c.kubectl(['get', ...args, '-o', 'name']);
  if (r.code === 0) return true;
  if (/NotFound|not found/.test(r.stderr)) return false;
  throw new Error(`kubectl get ${args.join(' ')}: ${r.stderr}`);
}

describe('garbage collector with kubectl', () => {
  it('`kubectl delete <custom resource> --cascade=foreground` completes after its ConfigMap is collected', async () => {
    await c.kubectlOk(['apply', '-f', '-'], { input: CRD });
    await c.kubectlOk(['wait', '--for=condition=Established', 'crd/gizmos.gc.example.com', '--timeout=30s'], { timeoutMs: 40_000 });
    // kubectl's discovery cache may lag the new CRD for a moment: retry the create until it resolves.
    await waitFor(async () => (await c.kubectl(['apply', '-f', '-'], { input: 'apiVersion: gc.example.com/v1\nkind: Gizmo\nmetadata: {name: g1, namespace: default}\nspec: {size: 1}\n' })).code === 0, 20_000, 'gizmo created');
    const uid = await c.kubectlOk(['get', 'gizmo', 'g1', '-o', 'jsonpath={.metadata.uid}']);
    expect(uid).toMatch(/^[0-9a-f-]{36}$/);
    await c.kubectlOk(['apply', '-f', '-'], { input: ownedConfigMap('g1-config', { apiVersion: 'gc.example.com/v1', kind: 'Gizmo', name: 'g1', uid }) });
    // A ConfigMap owned by a live Gizmo is kept.
    expect(await exists(['configmap', 'g1-config'])).toBe(true);

    const del = await c.kubectl(['delete', 'gizmo', 'g1', '--cascade=foreground', '--timeout=40s'], { timeoutMs: 50_000 });
    expect(del.stderr).toBe('');
    expect(del.code).toBe(0);
    expect(del.stdout).toContain('gizmo.gc.example.com "g1" deleted');
    // kubectl delete waits for the object to be gone: the finalizer was removed, after the dependent went.
    expect(await exists(['gizmo', 'g1'])).toBe(false);
    expect(await exists(['configmap', 'g1-config'])).toBe(false);
  }, 120_000);

  it('deleting the CRD takes its custom resources, and their dependents are collected', async () => {
    const crd2 = CRD.replace(/gizmos/g, 'doodads').replace(/gizmo/g, 'doodad').replace(/Gizmo/g, 'Doodad');
    await c.kubectlOk(['apply', '-f', '-'], { input: crd2 });
    await c.kubectlOk(['wait', '--for=condition=Established', 'crd/doodads.gc.example.com', '--timeout=30s'], { timeoutMs: 40_000 });
    await waitFor(async () => (await c.kubectl(['apply', '-f', '-'], { input: 'apiVersion: gc.example.com/v1\nkind: Doodad\nmetadata: {name: d1, namespace: default}\nspec: {}\n' })).code === 0, 20_000, 'doodad created');
    const uid = await c.kubectlOk(['get', 'doodad', 'd1', '-o', 'jsonpath={.metadata.uid}']);
    await c.kubectlOk(['apply', '-f', '-'], { input: ownedConfigMap('d1-config', { apiVersion: 'gc.example.com/v1', kind: 'Doodad', name: 'd1', uid }) });
    expect(await exists(['configmap', 'd1-config'])).toBe(true);
    await c.kubectlOk(['delete', 'crd', 'doodads.gc.example.com', '--timeout=40s'], { timeoutMs: 50_000 });
    await waitFor(async () => !(await exists(['configmap', 'd1-config'])), 20_000, 'd1-config collected after its CRD went');
  }, 120_000);

  it('`kubectl delete ingress --cascade=foreground` completes, and a Background delete collects the dependent', async () => {
    await c.kubectlOk(['create', 'ingress', 'x', '--rule=example.com/=svc:80']);
    const uid = await c.kubectlOk(['get', 'ingress', 'x', '-o', 'jsonpath={.metadata.uid}']);
    await c.kubectlOk(['apply', '-f', '-'], { input: ownedConfigMap('x-config', { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', name: 'x', uid }) });
    const del = await c.kubectl(['delete', 'ingress', 'x', '--cascade=foreground', '--timeout=40s'], { timeoutMs: 50_000 });
    expect(del.code).toBe(0);
    expect(del.stdout).toContain('ingress.networking.k8s.io "x" deleted');
    expect(await exists(['ingress', 'x'])).toBe(false);
    expect(await exists(['configmap', 'x-config'])).toBe(false);

    await c.kubectlOk(['create', 'ingress', 'y', '--rule=example.com/=svc:80']);
    const uidY = await c.kubectlOk(['get', 'ingress', 'y', '-o', 'jsonpath={.metadata.uid}']);
    await c.kubectlOk(['apply', '-f', '-'], { input: ownedConfigMap('y-config', { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', name: 'y', uid: uidY }) });
    await c.kubectlOk(['delete', 'ingress', 'y']);
    await waitFor(async () => !(await exists(['configmap', 'y-config'])), 20_000, 'y-config collected');
  }, 120_000);
});
