import { afterEach, describe, expect, it } from 'vitest';
import { R } from '../../server/controllers/client';
import { startControllers, type Harness } from './helpers/harness';
import { waitFor } from './helpers/wait';

let h: Harness | undefined;
afterEach(async () => { await h?.stop(); h = undefined; });

describe('ServiceAccounts controller', () => {
  it('creates the default ServiceAccount and kube-root-ca.crt in every namespace, and restores them', async () => {
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    h = await startControllers(['serviceaccount'], undefined, { rootCAPem: pem });
    const { f } = h;
    await f.create(R.namespaces, '', { metadata: { name: 'team' } });
    await waitFor(() => !!f.peek(R.serviceaccounts, 'team', 'default') && !!f.peek(R.configmaps, 'team', 'kube-root-ca.crt'), 3000);
    expect(f.peek(R.configmaps, 'team', 'kube-root-ca.crt')!.data).toEqual({ 'ca.crt': pem });
    await f.delete(R.serviceaccounts, 'team', 'default');
    await waitFor(() => !!f.peek(R.serviceaccounts, 'team', 'default'), 3000, 'recreated');
    await f.patch(R.configmaps, 'team', 'kube-root-ca.crt', 'merge', { data: { 'ca.crt': 'tampered' } });
    await waitFor(() => f.peek(R.configmaps, 'team', 'kube-root-ca.crt')!.data!['ca.crt'] === pem, 3000, 'restored');
  });

  it('caches only the root-CA ConfigMaps, not every ConfigMap in the cluster', async () => {
    h = await startControllers(['serviceaccount'], undefined, { rootCAPem: 'pem' });
    const { f } = h;
    await f.create(R.namespaces, '', { metadata: { name: 'team' } });
    await f.create(R.configmaps, 'team', { metadata: { name: 'app-config', namespace: 'team' }, data: { a: '1' } });
    await waitFor(() => !!f.peek(R.configmaps, 'team', 'kube-root-ca.crt'), 3000);
    const cached = h.mgr.ctx.informers.informerFor(R.configmaps, { fieldSelector: 'metadata.name=kube-root-ca.crt' });
    await waitFor(() => cached.store.list().length === 1, 3000, 'root CA cached');
    expect(cached.store.list().map((o) => `${o.metadata.namespace}/${o.metadata.name}`)).toEqual(['team/kube-root-ca.crt']);
  });
});
