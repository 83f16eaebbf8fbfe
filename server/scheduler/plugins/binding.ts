// DefaultBinder (POST pods/binding) and DefaultPreemption's PostFilter message. orch does not
// preempt: PostFilter only reports, in upstream's words, why preemption would not help.
import { R, type ClusterClient, isNotFound } from '../../controllers/client';
import { type BindPlugin, type CycleState, type PostFilterPlugin, Code, Status, fitErrorMessage } from '../framework';

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

export class DefaultPreemption implements PostFilterPlugin {
  readonly name = 'DefaultPreemption';
  postFilter(_s: CycleState, pod: any, statuses: Map<string, Status>, numNodes: number): { status: Status; message: string } {
    if (pod.spec?.preemptionPolicy === 'Never') {
      return { status: Status.unresolvable(), message: 'preemption: not eligible due to preemptionPolicy=Never.' };
    }
    const reasons = new Map<string, Status>();
    for (const [node, st] of statuses) {
      reasons.set(node, st.code === Code.UnschedulableAndUnresolvable
        ? Status.unresolvable('Preemption is not helpful for scheduling')
        : Status.unschedulable('No preemption victims found for incoming pod'));
    }
    return { status: Status.unschedulable(), message: `preemption: ${fitErrorMessage(numNodes, reasons, '', '')}` };
  }
}
