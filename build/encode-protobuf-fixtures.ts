// Writes protobuf fixtures for the wire types kubectl's `create` commands never send (times,
// quantities, int-or-string, inlined structs, JSONSchemaProps, RawExtension, FieldsV1, extra
// maps, pointer booleans), encoded by protobufjs from upstream's own generated.proto files —
// an encoder independent of orch's schema-driven decoder. Each case also writes the JSON the
// bytes mean (stated here by hand), which test/unit/api-protobuf.test.ts compares against.
//
// Run: npx tsx build/encode-protobuf-fixtures.ts --api <kubernetes/api git dir> \
//        --apimachinery <kubernetes/apimachinery git dir> --apiextensions <kubernetes/apiextensions-apiserver git dir>
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as protobuf from 'protobufjs';

const TAG = 'v0.32.4';
const OUT = path.resolve(__dirname, '../test/fixtures/protobuf');

function arg(name: string): string {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0 || !process.argv[i + 1]) throw new Error(`missing --${name} <git dir>`);
  return process.argv[i + 1];
}
const gitDir = (dir: string) => (fs.existsSync(path.join(dir, 'HEAD')) ? dir : path.join(dir, '.git'));
const git = (dir: string, ...args: string[]) => execFileSync('git', ['--git-dir', gitDir(dir), ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });

const json = (v: unknown) => Buffer.from(JSON.stringify(v));
const time = (iso: string, nanos = 0) => ({ seconds: Math.floor(Date.parse(iso) / 1000), nanos });
const qty = (s: string) => ({ string: s });
const intStr = (v: number | string) => (typeof v === 'number' ? { type: 0, intVal: v } : { type: 1, strVal: v });

interface Case { name: string; apiVersion: string; kind: string; type: string; message: Record<string, unknown>; expected: Record<string, unknown> }

const cases: Case[] = [
  {
    name: 'synthetic-deployment', apiVersion: 'apps/v1', kind: 'Deployment', type: 'k8s.io.api.apps.v1.Deployment',
    message: {
      metadata: {
        name: 'web', namespace: 'prod', uid: '5f0c', resourceVersion: '42', generation: 3,
        creationTimestamp: time('2025-01-01T00:00:00Z'), labels: { app: 'web' }, annotations: { note: 'x' },
        ownerReferences: [{ apiVersion: 'v1', kind: 'Thing', name: 'owner', uid: 'u-1', controller: true, blockOwnerDeletion: false }],
        managedFields: [{ manager: 'kubectl', operation: 'Apply', apiVersion: 'apps/v1', time: time('2025-01-02T03:04:05Z'), fieldsType: 'FieldsV1', fieldsV1: { Raw: json({ 'f:spec': { 'f:replicas': {} } }) } }],
      },
      spec: {
        replicas: 0,
        minReadySeconds: 0,
        selector: { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['a', 'b'] }] },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: {
            containers: [{
              name: 'web', image: 'nginx:1.27', args: ['-g', 'daemon off;'],
              ports: [{ containerPort: 80, protocol: 'TCP', name: 'http' }],
              env: [{ name: 'POD', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } }],
              resources: { limits: { cpu: qty('500m'), memory: qty('128Mi') }, requests: { cpu: qty('0.25') } },
              livenessProbe: { handler: { httpGet: { path: '/healthz', port: intStr('http'), scheme: 'HTTP' } }, initialDelaySeconds: 5 },
              readinessProbe: { handler: { tcpSocket: { port: intStr(80) } } },
              securityContext: { privileged: false, runAsUser: 0 },
            }],
            volumes: [
              { name: 'cfg', volumeSource: { configMap: { localObjectReference: { name: 'web-config' }, defaultMode: 420, optional: false } } },
              { name: 'scratch', volumeSource: { emptyDir: { sizeLimit: qty('1Gi') } } },
            ],
            hostNetwork: false,
            automountServiceAccountToken: false,
            terminationGracePeriodSeconds: 30,
          },
        },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: intStr('25%'), maxUnavailable: intStr(1) } },
      },
      status: { observedGeneration: 3, conditions: [{ type: 'Available', status: 'True', lastUpdateTime: time('2025-01-01T00:00:10Z'), lastTransitionTime: time('2025-01-01T00:00:10Z'), reason: 'MinimumReplicasAvailable', message: 'ok' }] },
    },
    expected: {
      apiVersion: 'apps/v1', kind: 'Deployment',
      metadata: {
        name: 'web', namespace: 'prod', uid: '5f0c', resourceVersion: '42', generation: 3,
        creationTimestamp: '2025-01-01T00:00:00Z', labels: { app: 'web' }, annotations: { note: 'x' },
        ownerReferences: [{ apiVersion: 'v1', kind: 'Thing', name: 'owner', uid: 'u-1', controller: true, blockOwnerDeletion: false }],
        managedFields: [{ manager: 'kubectl', operation: 'Apply', apiVersion: 'apps/v1', time: '2025-01-02T03:04:05Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:replicas': {} } } }],
      },
      spec: {
        replicas: 0,
        selector: { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['a', 'b'] }] },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: {
            containers: [{
              name: 'web', image: 'nginx:1.27', args: ['-g', 'daemon off;'],
              ports: [{ containerPort: 80, protocol: 'TCP', name: 'http' }],
              env: [{ name: 'POD', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } }],
              resources: { limits: { cpu: '500m', memory: '128Mi' }, requests: { cpu: '0.25' } },
              livenessProbe: { httpGet: { path: '/healthz', port: 'http', scheme: 'HTTP' }, initialDelaySeconds: 5 },
              readinessProbe: { tcpSocket: { port: 80 } },
              securityContext: { privileged: false, runAsUser: 0 },
            }],
            volumes: [
              { name: 'cfg', configMap: { name: 'web-config', defaultMode: 420, optional: false } },
              { name: 'scratch', emptyDir: { sizeLimit: '1Gi' } },
            ],
            automountServiceAccountToken: false,
            terminationGracePeriodSeconds: 30,
          },
        },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 1 } },
      },
      status: { observedGeneration: 3, conditions: [{ type: 'Available', status: 'True', lastUpdateTime: '2025-01-01T00:00:10Z', lastTransitionTime: '2025-01-01T00:00:10Z', reason: 'MinimumReplicasAvailable', message: 'ok' }] },
    },
  },
  {
    name: 'synthetic-event', apiVersion: 'events.k8s.io/v1', kind: 'Event', type: 'k8s.io.api.events.v1.Event',
    message: {
      metadata: { name: 'web.1', namespace: 'prod' },
      eventTime: time('2025-03-04T05:06:07Z', 123456789),
      series: { count: 4, lastObservedTime: time('2025-03-04T05:07:00Z', 5000) },
      reportingController: 'orch/scheduler', reportingInstance: 'node-1', action: 'Binding', reason: 'Scheduled',
      regarding: { kind: 'Pod', namespace: 'prod', name: 'web-0', uid: 'p-1', apiVersion: 'v1' },
      note: 'assigned prod/web-0 to node-1', type: 'Normal', deprecatedCount: 0,
    },
    expected: {
      apiVersion: 'events.k8s.io/v1', kind: 'Event',
      metadata: { name: 'web.1', namespace: 'prod' },
      eventTime: '2025-03-04T05:06:07.123456Z',
      series: { count: 4, lastObservedTime: '2025-03-04T05:07:00.000005Z' },
      reportingController: 'orch/scheduler', reportingInstance: 'node-1', action: 'Binding', reason: 'Scheduled',
      regarding: { kind: 'Pod', namespace: 'prod', name: 'web-0', uid: 'p-1', apiVersion: 'v1' },
      note: 'assigned prod/web-0 to node-1', type: 'Normal',
    },
  },
  {
    name: 'synthetic-crd', apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition',
    type: 'k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition',
    message: {
      metadata: { name: 'widgets.example.com' },
      spec: {
        group: 'example.com', scope: 'Namespaced',
        names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList', shortNames: ['wd'] },
        versions: [{
          name: 'v1', served: true, storage: true,
          subresources: { status: {}, scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas' } },
          additionalPrinterColumns: [{ name: 'Size', type: 'integer', jsonPath: '.spec.size' }],
          schema: {
            openAPIV3Schema: {
              type: 'object', required: ['spec'],
              properties: {
                spec: {
                  type: 'object',
                  properties: {
                    size: { type: 'integer', minimum: 1, maximum: 10, default: { raw: json(3) } },
                    colour: { type: 'string', enum: [{ raw: json('red') }, { raw: json('blue') }] },
                    port: { xKubernetesIntOrString: true },
                    tags: { type: 'array', items: { schema: { type: 'string' } }, xKubernetesListType: 'set' },
                    labels: { type: 'object', additionalProperties: { schema: { type: 'string' } } },
                    free: { type: 'object', xKubernetesPreserveUnknownFields: true, additionalProperties: { allows: true } },
                    ref: { ref: '#/definitions/x' },
                  },
                },
              },
            },
          },
        }],
      },
    },
    expected: {
      apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition',
      metadata: { name: 'widgets.example.com' },
      spec: {
        group: 'example.com', scope: 'Namespaced',
        names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList', shortNames: ['wd'] },
        versions: [{
          name: 'v1', served: true, storage: true,
          subresources: { status: {}, scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas' } },
          additionalPrinterColumns: [{ name: 'Size', type: 'integer', jsonPath: '.spec.size' }],
          schema: {
            openAPIV3Schema: {
              type: 'object', required: ['spec'],
              properties: {
                spec: {
                  type: 'object',
                  properties: {
                    size: { type: 'integer', minimum: 1, maximum: 10, default: 3 },
                    colour: { type: 'string', enum: ['red', 'blue'] },
                    port: { 'x-kubernetes-int-or-string': true },
                    tags: { type: 'array', items: { type: 'string' }, 'x-kubernetes-list-type': 'set' },
                    labels: { type: 'object', additionalProperties: { type: 'string' } },
                    free: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, additionalProperties: true },
                    ref: { $ref: '#/definitions/x' },
                  },
                },
              },
            },
          },
        }],
      },
    },
  },
  {
    name: 'synthetic-subjectaccessreview', apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', type: 'k8s.io.api.authorization.v1.SubjectAccessReview',
    message: {
      metadata: {},
      spec: {
        user: 'alice', groups: ['devs', 'system:authenticated'], uid: 'a-1',
        extra: { scopes: { items: ['read', 'write'] }, empty: { items: [] } },
        nonResourceAttributes: { path: '/healthz', verb: 'get' },
      },
      status: { allowed: true, reason: 'RBAC: allowed by ClusterRoleBinding' },
    },
    expected: {
      apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', metadata: {},
      spec: {
        user: 'alice', groups: ['devs', 'system:authenticated'], uid: 'a-1',
        extra: { scopes: ['read', 'write'], empty: [] },
        nonResourceAttributes: { path: '/healthz', verb: 'get' },
      },
      status: { allowed: true, reason: 'RBAC: allowed by ClusterRoleBinding' },
    },
  },
  {
    name: 'synthetic-controllerrevision', apiVersion: 'apps/v1', kind: 'ControllerRevision', type: 'k8s.io.api.apps.v1.ControllerRevision',
    message: { metadata: { name: 'web-7d9f' }, data: { raw: json({ spec: { template: { metadata: { labels: { a: 'b' } } } } }) }, revision: 2 },
    expected: { apiVersion: 'apps/v1', kind: 'ControllerRevision', metadata: { name: 'web-7d9f' }, data: { spec: { template: { metadata: { labels: { a: 'b' } } } } }, revision: 2 },
  },
  {
    name: 'synthetic-secret', apiVersion: 'v1', kind: 'Secret', type: 'k8s.io.api.core.v1.Secret',
    message: { metadata: { name: 'sh.helm.release.v1.web.v1', namespace: 'prod', labels: { owner: 'helm' } }, immutable: false, type: 'helm.sh/release.v1', data: { release: Buffer.from('H4sIAAAA', 'utf8') } },
    expected: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'sh.helm.release.v1.web.v1', namespace: 'prod', labels: { owner: 'helm' } }, immutable: false, type: 'helm.sh/release.v1', data: { release: Buffer.from('H4sIAAAA').toString('base64') } },
  },
];

function main(): void {
  const apiDir = arg('api');
  const machineryDir = arg('apimachinery');
  const extDir = arg('apiextensions');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-proto-'));
  try {
    const put = (dir: string, file: string, as: string) => {
      const dest = path.join(tmp, as);
      fs.mkdirSync(path.dirname(dest), { recursive: true });
      fs.writeFileSync(dest, git(dir, 'show', `${TAG}:${file}`));
    };
    for (const f of git(apiDir, 'ls-tree', '-r', '--name-only', TAG).split('\n').filter((x) => x.endsWith('/generated.proto'))) put(apiDir, f, `k8s.io/api/${f}`);
    for (const f of ['pkg/apis/meta/v1/generated.proto', 'pkg/api/resource/generated.proto', 'pkg/util/intstr/generated.proto', 'pkg/runtime/generated.proto', 'pkg/runtime/schema/generated.proto']) {
      put(machineryDir, f, `k8s.io/apimachinery/${f}`);
    }
    put(extDir, 'pkg/apis/apiextensions/v1/generated.proto', 'k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1/generated.proto');
    const root = new protobuf.Root();
    root.resolvePath = (_origin, target) => path.join(tmp, target);
    root.loadSync([
      'k8s.io/api/apps/v1/generated.proto', 'k8s.io/api/events/v1/generated.proto', 'k8s.io/api/authorization/v1/generated.proto',
      'k8s.io/api/core/v1/generated.proto', 'k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1/generated.proto',
      'k8s.io/apimachinery/pkg/runtime/generated.proto',
    ], { keepCase: true });
    const unknown = root.lookupType('k8s.io.apimachinery.pkg.runtime.Unknown');
    for (const c of cases) {
      const type = root.lookupType(c.type);
      const raw = type.encode(type.fromObject(c.message)).finish();
      const envelope = unknown.encode(unknown.fromObject({ typeMeta: { apiVersion: c.apiVersion, kind: c.kind }, raw, contentEncoding: '', contentType: '' })).finish();
      fs.writeFileSync(path.join(OUT, `${c.name}.pb`), Buffer.concat([Buffer.from([0x6b, 0x38, 0x73, 0x00]), envelope]));
      fs.writeFileSync(path.join(OUT, `${c.name}.json`), JSON.stringify(c.expected, null, 2) + '\n');
      process.stdout.write(`${c.name}: ${raw.length} bytes\n`);
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main();
