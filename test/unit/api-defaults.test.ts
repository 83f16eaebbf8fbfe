import { describe, expect, it } from 'vitest';
import { applyDefaults, defaultImagePullPolicy } from '../../api/defaults';
import { parseQuantity, QuantityError } from '../../api/quantity';

describe('api/defaults', () => {
  it('defaults a pod like the apiserver does', { timeout: 5000 }, () => {
    const pod: any = {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' },
      spec: {
        containers: [
          { name: 'a', image: 'nginx', ports: [{ containerPort: 80 }], resources: { limits: { cpu: '1', memory: '1Gi' } }, livenessProbe: { httpGet: { path: '/', port: 80 } } },
          { name: 'b', image: 'nginx:1.27' },
          { name: 'c', image: 'registry.local:5000/app' },
          { name: 'd', image: 'busybox@sha256:abc', imagePullPolicy: 'Never' },
        ],
        volumes: [{ name: 'cfg', configMap: { name: 'x' } }],
      },
    };
    applyDefaults({ group: '', version: 'v1', kind: 'Pod' }, pod);
    expect(pod.spec).toMatchObject({
      restartPolicy: 'Always', dnsPolicy: 'ClusterFirst', terminationGracePeriodSeconds: 30,
      schedulerName: 'default-scheduler', securityContext: {}, enableServiceLinks: true,
    });
    const [a, b, c, d] = pod.spec.containers;
    expect(a).toMatchObject({ imagePullPolicy: 'Always', terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File' });
    expect(a.ports[0].protocol).toBe('TCP');
    expect(a.resources.requests).toEqual({ cpu: '1', memory: '1Gi' });
    expect(a.livenessProbe).toMatchObject({ timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3, httpGet: { scheme: 'HTTP' } });
    expect(b.imagePullPolicy).toBe('IfNotPresent');
    expect(c.imagePullPolicy).toBe('Always');
    expect(d.imagePullPolicy).toBe('Never');
    expect(pod.spec.volumes[0].configMap.defaultMode).toBe(420);
    // Idempotent.
    const again = structuredClone(pod);
    applyDefaults({ group: '', version: 'v1', kind: 'Pod' }, again);
    expect(again).toEqual(pod);
    expect(defaultImagePullPolicy('nginx:latest')).toBe('Always');
    expect(defaultImagePullPolicy('localhost:5000/nginx')).toBe('Always');
  });

  it('defaults deployments, services, jobs, cronjobs, secrets and namespaces', { timeout: 5000 }, () => {
    const deploy: any = { spec: { selector: { matchLabels: { app: 'w' } }, template: { metadata: { labels: { app: 'w' } }, spec: { containers: [{ name: 'w', image: 'w:1' }] } } } };
    applyDefaults({ group: 'apps', version: 'v1', kind: 'Deployment' }, deploy);
    expect(deploy.spec).toMatchObject({
      replicas: 1, revisionHistoryLimit: 10, progressDeadlineSeconds: 600,
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } },
    });
    expect(deploy.spec.template.spec.restartPolicy).toBe('Always');
    const zero: any = { spec: { replicas: 0 } };
    applyDefaults({ group: 'apps', version: 'v1', kind: 'Deployment' }, zero);
    expect(zero.spec.replicas).toBe(0);

    const svc: any = { spec: { ports: [{ port: 80 }, { port: 443, targetPort: 'https' }, { port: 53, targetPort: 0, protocol: 'UDP' }] } };
    applyDefaults({ group: '', version: 'v1', kind: 'Service' }, svc);
    expect(svc.spec).toMatchObject({ type: 'ClusterIP', sessionAffinity: 'None', internalTrafficPolicy: 'Cluster' });
    expect(svc.spec.ports).toEqual([
      { port: 80, protocol: 'TCP', targetPort: 80 }, { port: 443, protocol: 'TCP', targetPort: 'https' }, { port: 53, protocol: 'UDP', targetPort: 53 }]);
    const np: any = { spec: { type: 'NodePort', ports: [{ port: 80 }] } };
    applyDefaults({ group: '', version: 'v1', kind: 'Service' }, np);
    expect(np.spec.externalTrafficPolicy).toBe('Cluster');

    const job: any = { spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'j', image: 'busybox' }] } } } };
    applyDefaults({ group: 'batch', version: 'v1', kind: 'Job' }, job);
    expect(job.spec).toMatchObject({ completions: 1, parallelism: 1, backoffLimit: 6, completionMode: 'NonIndexed', suspend: false });
    const cj: any = { spec: { schedule: '* * * * *', jobTemplate: { spec: { template: { spec: { restartPolicy: 'OnFailure', containers: [] } } } } } };
    applyDefaults({ group: 'batch', version: 'v1', kind: 'CronJob' }, cj);
    expect(cj.spec).toMatchObject({ concurrencyPolicy: 'Allow', successfulJobsHistoryLimit: 3, failedJobsHistoryLimit: 1, suspend: false });
    expect(cj.spec.jobTemplate.spec.backoffLimit).toBe(6);

    const secret: any = { data: { a: 'b2xk' }, stringData: { a: 'new', b: 'x y' } };
    applyDefaults({ group: '', version: 'v1', kind: 'Secret' }, secret);
    expect(secret).toEqual({ type: 'Opaque', data: { a: Buffer.from('new').toString('base64'), b: Buffer.from('x y').toString('base64') } });

    const ns: any = { metadata: { name: 'n' } };
    applyDefaults({ group: '', version: 'v1', kind: 'Namespace' }, ns);
    expect(ns).toMatchObject({ spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' } });

    const rb: any = { subjects: [{ kind: 'User', name: 'alice' }, { kind: 'ServiceAccount', name: 'sa', namespace: 'x' }] };
    applyDefaults({ group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'RoleBinding' }, rb);
    expect(rb.subjects[0].apiGroup).toBe('rbac.authorization.k8s.io');
    expect(rb.subjects[1].apiGroup).toBeUndefined();
  });

  it('parses quantities', { timeout: 5000 }, () => {
    expect(parseQuantity('100m')).toBeCloseTo(0.1);
    expect(parseQuantity('1Gi')).toBe(1073741824);
    expect(parseQuantity('1G')).toBe(1e9);
    expect(parseQuantity('1.5')).toBe(1.5);
    expect(parseQuantity('2e3')).toBe(2000);
    expect(parseQuantity(3)).toBe(3);
    expect(() => parseQuantity('1GB')).toThrow(QuantityError);
    expect(() => parseQuantity('abc')).toThrow(/regular expression/);
  });
});

describe('api/defaults: custom resources', () => {
  it('applies the defaults of a CRD schema where the parent exists', { timeout: 5000 }, async () => {
    const { applySchemaDefaults } = await import('../../api/defaults');
    const schema = {
      type: 'object',
      properties: {
        spec: {
          type: 'object',
          properties: {
            size: { type: 'integer', default: 3 },
            mode: { type: 'string', default: 'fast' },
            limits: { type: 'object', properties: { cpu: { type: 'string', default: '1' } } },
            ports: { type: 'array', items: { type: 'object', properties: { protocol: { type: 'string', default: 'TCP' } } } },
            extra: { type: 'object', additionalProperties: { type: 'object', properties: { on: { type: 'boolean', default: true } } } },
          },
        },
        status: { type: 'object', default: { phase: 'New' } },
      },
    };
    const obj: any = { spec: { mode: 'slow', ports: [{ port: 1 }, { port: 2, protocol: 'UDP' }], extra: { a: {}, b: { on: false } } } };
    applySchemaDefaults(schema, obj);
    expect(obj).toEqual({
      spec: { size: 3, mode: 'slow', ports: [{ port: 1, protocol: 'TCP' }, { port: 2, protocol: 'UDP' }], extra: { a: { on: true }, b: { on: false } } },
      status: { phase: 'New' },
    });
    expect(obj.spec.limits).toBeUndefined();
  });
});
