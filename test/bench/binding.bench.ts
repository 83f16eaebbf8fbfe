// pods/binding cost through the in-process LocalClient (real SQLite store, admission, watch
// cache; controllers off so nothing else writes): 1,000 pending pods are created, then bound one
// after another, as the scheduler's binder does. Reports bindings/s and the mean cost of one.
// Peer: pod creation through the same client in the same run (a create is the other write every
// scheduled pod costs), so the figure says what a binding costs relative to a create.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../../server/server';

const PODS = Number(process.env.BENCH_PODS ?? 1000);
const pods = { group: '', version: 'v1', resource: 'pods' };

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'orch-bench-binding-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  const server = await startServer({ dataDir: dir, httpsListenPort: 0, bindAddress: '127.0.0.1', writeKubeconfig: '', disableControllers: true, log: () => {} });
  try {
    const client = server.api.client;
    // No ServiceAccounts controller here: pods need their `default` ServiceAccount (admission refuses them otherwise).
    await client.create({ group: '', version: 'v1', resource: 'serviceaccounts' }, 'default', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: 'default' } });
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < PODS; i++) {
      await client.create(pods, 'default', {
        apiVersion: 'v1', kind: 'Pod', metadata: { name: `pod-${i}`, namespace: 'default', labels: { app: 'bench' } },
        spec: { containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10', resources: { requests: { cpu: '100m', memory: '128Mi' } } }] },
      });
    }
    const t1 = process.hrtime.bigint();
    const cpu0 = process.cpuUsage();
    for (let i = 0; i < PODS; i++) {
      await client.createSubresource(pods, 'default', `pod-${i}`, 'binding', { apiVersion: 'v1', kind: 'Binding', metadata: { name: `pod-${i}` }, target: { kind: 'Node', name: `node-${i % 10}` } });
    }
    const t2 = process.hrtime.bigint();
    const cpu = process.cpuUsage(cpu0);
    // CPU of this process per binding: the store's fsync waits do not count, the encode/managedFields work does.
    const bindCpuUs = (cpu.user + cpu.system) / PODS;
    const createMs = Number(t1 - t0) / 1e6;
    const bindMs = Number(t2 - t1) / 1e6;
    const last = await client.get(pods, 'default', `pod-${PODS - 1}`);
    const scheduled = (last.status?.conditions ?? []).find((c: any) => c.type === 'PodScheduled')?.status ?? 'none';
    console.log(`${PODS} creates: ${createMs.toFixed(0)} ms (${((createMs * 1000) / PODS).toFixed(0)} us each, ${(PODS / (createMs / 1000)).toFixed(0)}/s)  [peer]`);
    console.log(`${PODS} bindings: ${bindMs.toFixed(0)} ms (${((bindMs * 1000) / PODS).toFixed(0)} us each, ${(PODS / (bindMs / 1000)).toFixed(0)}/s, ${bindCpuUs.toFixed(0)} us CPU each); last pod nodeName=${last.spec.nodeName} PodScheduled=${scheduled} managedFields=${JSON.stringify((last.metadata.managedFields ?? []).map((m: any) => `${m.manager}/${m.operation}${m.subresource ? '/' + m.subresource : ''}`))}`);
    console.log(`binding: pods=${PODS} bind_us=${((bindMs * 1000) / PODS).toFixed(0)} bind_per_s=${(PODS / (bindMs / 1000)).toFixed(0)} bind_cpu_us=${bindCpuUs.toFixed(0)} create_us=${((createMs * 1000) / PODS).toFixed(0)} pod_scheduled=${scheduled}`);
  } finally {
    await server.close();
  }
}

main().then(() => process.exit(0), (err) => { console.error(err); process.exit(1); });
