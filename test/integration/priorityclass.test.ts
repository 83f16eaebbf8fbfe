// scheduling.k8s.io/v1 PriorityClass, the Priority admission plugin and pods/ephemeralcontainers
// against an in-process `orch server`, driven by the real kubectl: the system classes exist at
// start and cannot be deleted, `create priorityclass` and `get pc` columns, user-class limits and
// immutability, pods resolving spec.priority/preemptionPolicy from a class or the global default,
// a missing class refused, all of it again after a restart, and `kubectl debug` adding an
// ephemeral container that cannot change.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCluster, waitFor, writeFiles, type TestCluster } from './helpers/cluster';

let c: TestCluster;
const NS = 'prio';

const getPod = async (name: string): Promise<any> => JSON.parse(await c.kubectlOk(['get', 'pod', name, '-n', NS, '-o', 'json']));

/** A pod the scheduler leaves alone (another schedulerName). */
function pod(name: string, spec: Record<string, unknown> = {}): string {
  return JSON.stringify({
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: NS },
    spec: { schedulerName: 'test-only', containers: [{ name: 'app', image: 'busybox' }], ...spec },
  });
}

beforeAll(async () => {
  c = await startTestCluster();
  await c.kubectlOk(['create', 'namespace', NS]);
  // Pods need the namespace's default ServiceAccount, which a controller creates a moment later.
  await waitFor(async () => (await c.kubectl(['get', 'serviceaccount', 'default', '-n', NS])).code === 0, 20_000, 'default ServiceAccount');
}, 60_000);

afterAll(async () => { await c?.stop(); }, 30_000);

describe('PriorityClass', () => {
  it('has the two system classes with upstream\'s columns', async () => {
    const resources = (await c.kubectlOk(['api-resources', '--api-group=scheduling.k8s.io', '--no-headers'])).trim().split(/\s+/);
    expect(resources).toEqual(['priorityclasses', 'pc', 'scheduling.k8s.io/v1', 'false', 'PriorityClass']);
    const out = await c.kubectlOk(['get', 'pc']);
    const lines = out.trim().split('\n');
    expect(lines[0]!.split(/\s+/)).toEqual(['NAME', 'VALUE', 'GLOBAL-DEFAULT', 'AGE', 'PREEMPTIONPOLICY']);
    expect(lines.find((l) => l.startsWith('system-cluster-critical'))!.split(/\s+/)).toEqual(['system-cluster-critical', '2000000000', 'false', expect.any(String), 'PreemptLowerPriority']);
    expect(lines.find((l) => l.startsWith('system-node-critical'))!.split(/\s+/)).toEqual(['system-node-critical', '2000001000', 'false', expect.any(String), 'PreemptLowerPriority']);
    const described = await c.kubectlOk(['describe', 'pc', 'system-node-critical']);
    expect(described).toMatch(/Name:\s+system-node-critical/);
    expect(described).toMatch(/Value:\s+2000001000/);
    expect(described).toMatch(/PreemptionPolicy:\s+PreemptLowerPriority/);
  }, 30_000);

  it('creates user classes and refuses values and names kept for the system', async () => {
    expect(await c.kubectlOk(['create', 'priorityclass', 'high', '--value=1000', '--description=important batch'])).toContain('priorityclass.scheduling.k8s.io/high created');
    const high = JSON.parse(await c.kubectlOk(['get', 'priorityclass', 'high', '-o', 'json']));
    expect(high).toMatchObject({ apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', value: 1000, description: 'important batch', preemptionPolicy: 'PreemptLowerPriority' });
    const row = (await c.kubectlOk(['get', 'pc', 'high', '--no-headers'])).trim().split(/\s+/);
    expect(row).toEqual(['high', '1000', 'false', expect.any(String), 'PreemptLowerPriority']);

    const tooHigh = await c.kubectl(['create', 'priorityclass', 'too-high', '--value=1000000001']);
    expect(tooHigh.code).not.toBe(0);
    expect(tooHigh.stderr).toContain('PriorityClass.scheduling.k8s.io "too-high" is invalid: value: Forbidden: maximum allowed value of a user defined priority is 1000000000');
    const reserved = await c.kubectl(['create', 'priorityclass', 'system-mine', '--value=5']);
    expect(reserved.code).not.toBe(0);
    expect(reserved.stderr).toContain("metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: system-mine is not a known system priority class");

    const changed = await c.kubectl(['patch', 'pc', 'high', '--type=merge', '-p', '{"value":5}']);
    expect(changed.code).not.toBe(0);
    expect(changed.stderr).toContain('value: Forbidden: may not be changed in an update.');
    const policy = await c.kubectl(['patch', 'pc', 'high', '--type=merge', '-p', '{"preemptionPolicy":"Never"}']);
    expect(policy.code).not.toBe(0);
    expect(policy.stderr).toContain('preemptionPolicy: Invalid value: "Never": field is immutable');
    // Other fields may change.
    await c.kubectlOk(['patch', 'pc', 'high', '--type=merge', '-p', '{"description":"still important"}']);
  }, 60_000);

  it('applies a PriorityClass manifest (validated against the served schema) and explains its fields', async () => {
    const manifest = 'apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata:\n  name: applied\nvalue: 300\ndescription: from a file\n';
    expect(await c.kubectlOk(['apply', '-f', '-'], { input: manifest })).toContain('priorityclass.scheduling.k8s.io/applied created');
    expect(await c.kubectlOk(['apply', '-f', '-'], { input: manifest.replace('from a file', 'edited') })).toContain('priorityclass.scheduling.k8s.io/applied configured');
    const got = JSON.parse(await c.kubectlOk(['get', 'pc', 'applied', '-o', 'json']));
    expect(got).toMatchObject({ value: 300, description: 'edited', preemptionPolicy: 'PreemptLowerPriority' });
    const bogus = await c.kubectl(['apply', '-f', '-'], { input: manifest.replace('value: 300', 'value: 300\nbogus: 1') });
    expect(bogus.code).not.toBe(0);
    expect(bogus.stderr).toContain('unknown field "bogus"');
    const explain = await c.kubectlOk(['explain', 'priorityclass.value']);
    expect(explain.replace(/\s+/g, ' ')).toContain('At most 1000000000 for user classes');
    await c.kubectlOk(['delete', 'pc', 'applied']);
  }, 60_000);

  it('refuses to delete the system classes', async () => {
    for (const name of ['system-node-critical', 'system-cluster-critical']) {
      const r = await c.kubectl(['delete', 'pc', name]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(`priorityclasses.scheduling.k8s.io "${name}" is forbidden: this is a system priority class and cannot be deleted`);
    }
    expect(await c.kubectlOk(['get', 'pc', 'system-node-critical', '-o', 'name'])).toContain('priorityclass.scheduling.k8s.io/system-node-critical');
  }, 30_000);
});

describe('Priority admission', () => {
  it('resolves spec.priority from the system and user classes', async () => {
    await c.kubectlOk(['create', '-f', '-'], { input: pod('critical', { priorityClassName: 'system-cluster-critical' }) });
    const critical = await getPod('critical');
    expect(critical.spec).toMatchObject({ priorityClassName: 'system-cluster-critical', priority: 2000000000, preemptionPolicy: 'PreemptLowerPriority' });

    await c.kubectlOk(['create', 'priorityclass', 'batch-low', '--value=7', '--preemption-policy=Never']);
    // The class reaches admission through the store read of a cache miss, or through the watch: either way at once.
    await c.kubectlOk(['create', '-f', '-'], { input: pod('batch', { priorityClassName: 'batch-low' }) });
    expect((await getPod('batch')).spec).toMatchObject({ priorityClassName: 'batch-low', priority: 7, preemptionPolicy: 'Never' });

    // A PUT that leaves spec.priority out keeps it (the plugin on update); changing it is a forbidden spec change.
    const sent = structuredClone(critical);
    delete sent.spec.priority;
    sent.metadata.labels = { edited: 'yes' };
    const replaced = JSON.parse(await c.kubectlOk(['replace', '-f', '-', '-o', 'json'], { input: JSON.stringify(sent) }));
    expect(replaced.spec.priority).toBe(2000000000);
    expect(replaced.metadata.labels).toEqual({ edited: 'yes' });
    const changed = await c.kubectl(['patch', 'pod', 'critical', '-n', NS, '--type=merge', '-p', '{"spec":{"priority":1}}']);
    expect(changed.code).not.toBe(0);
    expect(changed.stderr).toContain('pod updates may not change fields other than');

    await c.kubectlOk(['create', '-f', '-'], { input: pod('plain') });
    const plain = await getPod('plain');
    expect(plain.spec.priority).toBe(0);
    expect(plain.spec.preemptionPolicy).toBe('PreemptLowerPriority');
    expect(plain.spec.priorityClassName).toBeUndefined();
  }, 60_000);

  it('refuses a missing class and a priority that differs from the class', async () => {
    const missing = await c.kubectl(['create', '-f', '-'], { input: pod('lost', { priorityClassName: 'nope' }) });
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('pods "lost" is forbidden: no PriorityClass with name nope was found');
    expect((await c.kubectl(['get', 'pod', 'lost', '-n', NS])).code).not.toBe(0);

    const wrong = await c.kubectl(['create', '-f', '-'], { input: pod('wrong', { priorityClassName: 'high', priority: 5 }) });
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toContain('pods "wrong" is forbidden: the integer value of priority (5) must not be provided in pod spec; priority admission controller computed 1000 from the given PriorityClass name');
    // The same value as the class is fine.
    await c.kubectlOk(['create', '-f', '-'], { input: pod('same', { priorityClassName: 'high', priority: 1000 }) });
  }, 60_000);

  it('gives pods without a class the global default, and allows only one default', async () => {
    await c.kubectlOk(['create', 'priorityclass', 'everyone', '--value=50', '--global-default', '--preemption-policy=Never']);
    const second = await c.kubectl(['create', 'priorityclass', 'everyone-else', '--value=60', '--global-default']);
    expect(second.code).not.toBe(0);
    expect(second.stderr).toContain('priorityclasses.scheduling.k8s.io "everyone-else" is forbidden: PriorityClass everyone is already marked as default. Only one default can exist');
    const row = (await c.kubectlOk(['get', 'pc', 'everyone', '--no-headers'])).trim().split(/\s+/);
    expect(row).toEqual(['everyone', '50', 'true', expect.any(String), 'Never']);

    // The default reaches admission through the watch cache: poll with fresh pod names.
    const p = await waitFor(async () => {
      const name = `defaulted-${Math.random().toString(36).slice(2, 7)}`;
      await c.kubectlOk(['create', '-f', '-'], { input: pod(name) });
      const got = await getPod(name);
      return got.spec.priority === 50 ? got : false;
    }, 10_000, 'the global default applied');
    expect(p.spec).toMatchObject({ priorityClassName: 'everyone', priority: 50, preemptionPolicy: 'Never' });
    await c.kubectlOk(['delete', 'pc', 'everyone']);
  }, 60_000);
});

describe('after a restart', () => {
  it('keeps user classes, bootstraps the system classes once, and admission resolves classes again', async () => {
    await c.restart();
    const names = (await c.kubectlOk(['get', 'pc', '-o', 'name'])).trim().split('\n').sort();
    expect(names).toEqual(['priorityclass.scheduling.k8s.io/batch-low', 'priorityclass.scheduling.k8s.io/high', 'priorityclass.scheduling.k8s.io/system-cluster-critical', 'priorityclass.scheduling.k8s.io/system-node-critical']);
    await c.kubectlOk(['create', '-f', '-'], { input: pod('after-restart', { priorityClassName: 'high' }) });
    expect((await getPod('after-restart')).spec.priority).toBe(1000);
    const missing = await c.kubectl(['create', '-f', '-'], { input: pod('after-restart-lost', { priorityClassName: 'everyone' }) });
    expect(missing.stderr).toContain('no PriorityClass with name everyone was found');
  }, 60_000);
});

describe('pods/ephemeralcontainers', () => {
  it('kubectl debug adds an ephemeral container that cannot be changed or removed afterwards', async () => {
    await c.kubectlOk(['create', '-f', '-'], { input: pod('target') });
    const out = await c.kubectl(['debug', 'target', '-n', NS, '--image=busybox', '-c', 'debugger', '-i=false', '-t=false']);
    expect(out.code, out.stderr).toBe(0);
    const p = await getPod('target');
    expect(p.spec.ephemeralContainers).toHaveLength(1);
    expect(p.spec.ephemeralContainers[0]).toMatchObject({ name: 'debugger', image: 'busybox' });
    expect(p.spec.containers.map((x: any) => x.name)).toEqual(['app']);
    const withFields = JSON.parse(await c.kubectlOk(['get', 'pod', 'target', '-n', NS, '-o', 'json', '--show-managed-fields']));
    const entry = withFields.metadata.managedFields.find((m: any) => m.subresource === 'ephemeralcontainers');
    expect(entry).toMatchObject({ manager: 'kubectl', operation: 'Update' });

    const path = `/api/v1/namespaces/${NS}/pods/target/ephemeralcontainers`;
    const served = JSON.parse(await c.kubectlOk(['get', '--raw', path]));
    expect(served.kind).toBe('Pod');
    expect(served.spec.ephemeralContainers[0].name).toBe('debugger');

    // Changing it is refused.
    const changed = structuredClone(served);
    changed.spec.ephemeralContainers[0].image = 'busybox:other';
    const files = writeFiles({ 'changed.json': JSON.stringify(changed), 'removed.json': JSON.stringify({ ...served, spec: { ...served.spec, ephemeralContainers: [] } }) });
    const r1 = await c.kubectl(['replace', '--raw', path, '-f', files.path('changed.json')]);
    expect(r1.code).not.toBe(0);
    expect(r1.stderr).toContain('spec.ephemeralContainers[debugger]: Forbidden: existing ephemeral containers "debugger" may not be changed');
    // Removing it is refused.
    const r2 = await c.kubectl(['replace', '--raw', path, '-f', files.path('removed.json')]);
    expect(r2.code).not.toBe(0);
    expect(r2.stderr).toContain('existing ephemeral containers "debugger" may not be removed');
    // kubectl debug again with the same name sends a strategic merge patch (merge key `name`) that
    // leaves the existing container as it was: nothing changes, as upstream.
    await c.kubectlOk(['debug', 'target', '-n', NS, '--image=busybox:1.36', '-c', 'debugger', '-i=false', '-t=false']);
    expect((await getPod('target')).spec.ephemeralContainers).toEqual(p.spec.ephemeralContainers);
    // A second, differently named debugger is added next to the first.
    await c.kubectlOk(['debug', 'target', '-n', NS, '--image=busybox', '-c', 'debugger2', '-i=false', '-t=false']);
    const after = await getPod('target');
    expect(after.spec.ephemeralContainers[0]).toEqual(p.spec.ephemeralContainers[0]);
    expect(after.spec.ephemeralContainers.map((x: any) => x.name)).toEqual(['debugger', 'debugger2']);
  }, 60_000);

  it('runs the ServiceAccount check on the write: enforce-mountable-secrets bounds the new container\'s Secrets', async () => {
    await c.kubectlOk(['create', 'serviceaccount', 'strict', '-n', NS]);
    await c.kubectlOk(['annotate', 'serviceaccount', 'strict', '-n', NS, 'kubernetes.io/enforce-mountable-secrets=true']);
    await c.kubectlOk(['create', '-f', '-'], { input: pod('guarded', { serviceAccountName: 'strict' }) });
    const path = `/api/v1/namespaces/${NS}/pods/guarded/ephemeralcontainers`;
    // The annotation reaches admission through the ServiceAccount cache: poll until it refuses.
    const refused = await waitFor(async () => {
      const served = JSON.parse(await c.kubectlOk(['get', '--raw', path]));
      const name = `dbg-${Math.random().toString(36).slice(2, 7)}`;
      served.spec.ephemeralContainers = [...(served.spec.ephemeralContainers ?? []), { name, image: 'busybox', env: [{ name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'other', key: 'token' } } }] }];
      const files = writeFiles({ 'secret.json': JSON.stringify(served) });
      const r = await c.kubectl(['replace', '--raw', path, '-f', files.path('secret.json')]);
      return r.code !== 0 ? r.stderr : false;
    }, 10_000, 'the ServiceAccount check refused the ephemeral container');
    expect(refused).toMatch(/pods "guarded" is forbidden: ephemeral container dbg-\w+ with envVar TOKEN referencing secret.secretName="other" is not allowed because service account strict does not reference that secret/);
  }, 60_000);

  it('refuses ports and probes on an ephemeral container, and changes to anything but ephemeral containers are dropped', async () => {
    await c.kubectlOk(['create', '-f', '-'], { input: pod('target2') });
    const path = `/api/v1/namespaces/${NS}/pods/target2/ephemeralcontainers`;
    const served = JSON.parse(await c.kubectlOk(['get', '--raw', path]));
    const withPorts = structuredClone(served);
    withPorts.spec.ephemeralContainers = [{ name: 'dbg', image: 'busybox', ports: [{ containerPort: 80 }], readinessProbe: { exec: { command: ['true'] } } }];
    const withLabel = structuredClone(served);
    withLabel.metadata.labels = { sneaky: 'yes' };
    withLabel.spec.ephemeralContainers = [{ name: 'dbg2', image: 'busybox' }];
    const files = writeFiles({ 'ports.json': JSON.stringify(withPorts), 'label.json': JSON.stringify(withLabel) });
    const r = await c.kubectl(['replace', '--raw', path, '-f', files.path('ports.json')]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('spec.ephemeralContainers[0].ports: Forbidden: cannot be set for an Ephemeral Container');
    expect(r.stderr).toContain('spec.ephemeralContainers[0].readinessProbe: Forbidden: cannot be set for an Ephemeral Container');
    const ok = JSON.parse(await c.kubectlOk(['replace', '--raw', path, '-f', files.path('label.json')]));
    expect(ok.spec.ephemeralContainers.map((x: any) => x.name)).toEqual(['dbg2']);
    expect(ok.metadata.labels?.sneaky).toBeUndefined();
  }, 60_000);
});
