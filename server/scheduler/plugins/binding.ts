// DefaultBinder: binds through POST pods/<name>/binding, as upstream's default binder.
import { R, type ClusterClient, isNotFound } from '../../controllers/client';
import { type BindPlugin, type CycleState, Code, Status } from '../framework';

export class DefaultBinder implements BindPlugin {
  readonly name = 'DefaultBinder';
  constructor(private readonly client: ClusterClient) {}
  async bind(_s: CycleState, pod: any, nodeName: string): Promise<Status> {
    try {
      await this.client.createSubresource(R.pods, pod.metadata.namespace, pod.metadata.name, 'binding', {
        apiVersion: 'v1', kind: 'Binding',
        metadata: { name: pod.metadata.name, namespace: pod.metadata.namespace, uid: pod.metadata.uid },
        target: { apiVersion: 'v1', kind: 'Node', name: nodeName },
      });
      return Status.success();
    } catch (e) {
      if (isNotFound(e)) return new Status(Code.Error, [`pod ${pod.metadata.namespace}/${pod.metadata.name} was deleted`]);
      return Status.error(e);
    }
  }
}
