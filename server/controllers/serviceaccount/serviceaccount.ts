// ServiceAccounts controller and root-CA publisher: every active namespace gets a `default`
// ServiceAccount and a `kube-root-ca.crt` ConfigMap holding the cluster CA (what projected
// service-account volumes mount). Bound tokens themselves come from the apiserver's TokenRequest
// (serviceaccounts/token), which signs them; nothing here mints tokens.
import { R, isAlreadyExists, type Informer } from '../client';
import { QueueController, type ControllerContext } from '../controller';
import { clone, type KubeObject } from '../types';

export const ROOT_CA_CONFIGMAP = 'kube-root-ca.crt';

export class ServiceAccountsController extends QueueController {
  private readonly nsInformer: Informer;
  private readonly saInformer: Informer;
  private readonly cmInformer: Informer;

  constructor(ctx: ControllerContext) {
    super('serviceaccount', ctx, 'service-account-controller');
    this.nsInformer = this.informer(R.namespaces);
    this.saInformer = this.informer(R.serviceaccounts);
    // Only the root-CA ConfigMaps: caching every ConfigMap in the cluster would cost memory for nothing.
    this.cmInformer = this.informer(R.configmaps, { fieldSelector: `metadata.name=${ROOT_CA_CONFIGMAP}` });
    this.nsInformer.addEventHandler({ onAdd: (n) => this.enqueue(n), onUpdate: (_o, n) => this.enqueue(n) });
    const byNamespace = (o: KubeObject) => this.queue.add(o.metadata.namespace!);
    this.saInformer.addEventHandler({ onDelete: (o) => { if (o.metadata.name === 'default') byNamespace(o); } });
    this.cmInformer.addEventHandler({
      onUpdate: (_o, n) => { if (n.metadata.name === ROOT_CA_CONFIGMAP) byNamespace(n); },
      onDelete: (o) => { if (o.metadata.name === ROOT_CA_CONFIGMAP) byNamespace(o); },
    });
  }

  async sync(namespace: string): Promise<void> {
    const ns = this.nsInformer.store.get('', namespace);
    if (!ns || ns.metadata.deletionTimestamp || ns.status?.phase === 'Terminating') return;
    if (!this.saInformer.store.get(namespace, 'default')) {
      try {
        await this.client.create(R.serviceaccounts, namespace, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace } });
      } catch (e) { if (!isAlreadyExists(e)) throw e; }
    }
    const ca = this.ctx.options.rootCAPem;
    if (!ca) return;
    const cm = this.cmInformer.store.get(namespace, ROOT_CA_CONFIGMAP);
    const annotations = { 'kubernetes.io/description': 'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.' };
    if (!cm) {
      try {
        await this.client.create(R.configmaps, namespace, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: ROOT_CA_CONFIGMAP, namespace, annotations }, data: { 'ca.crt': ca } });
      } catch (e) { if (!isAlreadyExists(e)) throw e; }
      return;
    }
    if (cm.data?.['ca.crt'] !== ca) {
      const next = clone(cm);
      next.data = { ...(next.data ?? {}), 'ca.crt': ca };
      await this.client.update(R.configmaps, next);
    }
  }
}
