import { afterEach, describe, expect, it } from 'vitest';
import { R } from '../../server/controllers/client';
import { startControllers, type Harness } from './helpers/harness';
import { markPodsReady } from './helpers/hollow';
import { pod } from './helpers/objects';
import { waitFor } from './helpers/wait';

let h: Harness | undefined;
afterEach(async () => { await h?.stop(); h = undefined; });

const svc = (name: string, spec: any) => ({ metadata: { name, namespace: 'default', labels: { team: 'a' } }, spec: { selector: { app: 'web' }, clusterIP: '10.43.0.20', ...spec } });
const webPod = (name: string, port: number) => pod(name, { labels: { app: 'web' }, spec: { containers: [{ name: 'c', image: 'busybox', ports: [{ name: 'http', containerPort: port }] }] } });

describe('Endpoints and EndpointSlice controllers', () => {
  it('publishes ready pods as addresses, not-ready as notReadyAddresses, resolving named ports per pod', async () => {
    h = await startControllers(['endpoints', 'endpointslice']);
    const { f } = h;
    f.seed(R.pods, webPod('a', 8080), webPod('b', 9090), webPod('c', 8080));
    await markPodsReady(f, { assignTo: 'n1', filter: (p) => p.metadata.name !== 'c' });
    // c has an IP but is not ready.
    const c = f.peek(R.pods, 'default', 'c')!;
    c.spec.nodeName = 'n2';
    c.status = { phase: 'Running', podIP: '10.42.1.9', conditions: [{ type: 'Ready', status: 'False' }] };
    await f.updateStatus(R.pods, c);
    f.seed(R.services, svc('web', { ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }] }));
    await waitFor(() => !!f.peek(R.endpoints, 'default', 'web'), 3000, 'endpoints');
    const ep = f.peek(R.endpoints, 'default', 'web')!;
    expect(ep.metadata.labels).toEqual({ team: 'a' });
    const ips = (pods: string[]) => pods.map((n) => f.peek(R.pods, 'default', n)!.status.podIP).sort();
    const by8080 = ep.subsets.find((s: any) => s.ports[0].port === 8080);
    const by9090 = ep.subsets.find((s: any) => s.ports[0].port === 9090);
    expect(by8080.addresses.map((x: any) => x.ip)).toEqual(ips(['a']));
    expect(by8080.notReadyAddresses.map((x: any) => x.ip)).toEqual(['10.42.1.9']);
    expect(by9090.addresses[0]).toMatchObject({ nodeName: 'n1', targetRef: { kind: 'Pod', name: 'b' } });
    expect(by8080.ports).toEqual([{ name: 'http', port: 8080, protocol: 'TCP' }]);
    await waitFor(() => f.all(R.endpointslices).length === 2, 3000, 'two slices (two port sets)');
    const slices = f.all(R.endpointslices);
    for (const s of slices) {
      expect(s.metadata.labels).toMatchObject({ 'kubernetes.io/service-name': 'web', 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' });
      expect(s.metadata.ownerReferences![0]).toMatchObject({ kind: 'Service', name: 'web', controller: true });
      expect(s.addressType).toBe('IPv4');
    }
    const notReady = slices.flatMap((s) => s.endpoints).find((e: any) => e.addresses[0] === '10.42.1.9');
    expect(notReady.conditions).toEqual({ ready: false, serving: false, terminating: false });
    // A pod goes away: both objects follow.
    await f.delete(R.pods, 'default', 'b');
    await waitFor(() => f.peek(R.endpoints, 'default', 'web')!.subsets.length === 1 && f.all(R.endpointslices).length === 1, 3000, 'shrunk');
  });

  it('publishNotReadyAddresses and headless services', async () => {
    h = await startControllers(['endpoints']);
    const { f } = h;
    const p = pod('db-0', { labels: { app: 'web' }, spec: { hostname: 'db-0', subdomain: 'db', containers: [{ name: 'c' }] } });
    f.seed(R.pods, p);
    const cur = f.peek(R.pods, 'default', 'db-0')!;
    cur.status = { phase: 'Pending', podIP: '10.42.0.7' };
    await f.updateStatus(R.pods, cur);
    f.seed(R.services, svc('db', { clusterIP: 'None', publishNotReadyAddresses: true, ports: [{ port: 5432, targetPort: 5432, protocol: 'TCP' }] }));
    await waitFor(() => !!f.peek(R.endpoints, 'default', 'db'), 3000);
    const ep = f.peek(R.endpoints, 'default', 'db')!;
    expect(ep.metadata.labels!['service.kubernetes.io/headless']).toBe('');
    expect(ep.subsets[0].addresses[0]).toMatchObject({ ip: '10.42.0.7', hostname: 'db-0' });
  });

  it('leaves services without a selector alone', async () => {
    h = await startControllers(['endpoints', 'endpointslice']);
    const { f } = h;
    f.seed(R.services, { metadata: { name: 'kubernetes', namespace: 'default' }, spec: { ports: [{ port: 443 }] } });
    await f.settle();
    await h.mgr.controllers[0].sync('default/kubernetes');
    expect(f.writes()).toEqual([]);
  });
});
