import { describe, expect, it } from 'vitest';
import { applyDefaults } from '../../api/defaults';
import {
  formatFieldError, isValidCronSchedule, pruneUnknownFields, unknownFields, validateAgainstSchema, validateObject,
} from '../../api/validation';
import type { SchemaObject } from '../../api/schema';

const POD = { group: '', version: 'v1', kind: 'Pod' };
const DEPLOY = { group: 'apps', version: 'v1', kind: 'Deployment' };
const pod = (spec: any, name = 'web'): any => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec });
const fields = (errs: Array<{ field: string }>) => errs.map((e) => e.field);

describe('api/validation: built-in kinds', () => {
  it('checks names per kind with upstream messages', { timeout: 5000 }, () => {
    const errs = validateObject({ group: '', version: 'v1', kind: 'ConfigMap' }, { metadata: { name: 'Bad_Name', namespace: 'default' } });
    expect(errs).toHaveLength(1);
    expect(formatFieldError(errs[0])).toBe(
      'metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, \'-\' or \'.\', and must start and end with an alphanumeric character (e.g. \'example.com\', regex used for validation is \'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\')');
    expect(errs[0].type).toBe('FieldValueInvalid');
    expect(validateObject({ group: '', version: 'v1', kind: 'ConfigMap' }, { metadata: { name: 'a.b-c', namespace: 'default' } })).toEqual([]);
    const ns = validateObject({ group: '', version: 'v1', kind: 'Namespace' }, { metadata: { name: 'a.b' } });
    expect(ns[0].message).toMatch(/RFC 1123 label/);
    const svc = validateObject({ group: '', version: 'v1', kind: 'Service' }, { metadata: { name: '1web', namespace: 'd' }, spec: { ports: [{ port: 80 }] } });
    expect(svc[0].message).toMatch(/DNS-1035 label/);
    expect(validateObject({ group: '', version: 'v1', kind: 'ConfigMap' }, { metadata: { namespace: 'd' } })[0])
      .toMatchObject({ type: 'FieldValueRequired', field: 'metadata.name' });
    expect(validateObject({ group: '', version: 'v1', kind: 'ConfigMap' }, { metadata: { generateName: 'cfg-', namespace: 'd' } })).toEqual([]);
    expect(validateObject({ group: '', version: 'v1', kind: 'Node' }, { metadata: { name: 'n', namespace: 'd' } })[0])
      .toMatchObject({ type: 'FieldValueForbidden', field: 'metadata.namespace', message: 'Forbidden: not allowed on this type' });
    expect(validateObject({ group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'ClusterRole' }, { metadata: { name: 'system:admin' } })).toEqual([]);
    const labels = validateObject({ group: '', version: 'v1', kind: 'ConfigMap' }, { metadata: { name: 'c', namespace: 'd', labels: { 'bad key!': 'x', ok: 'not ok' } } });
    expect(fields(labels)).toEqual(['metadata.labels', 'metadata.labels']);
  });

  it('requires pod containers, names and images, and checks enums and ports', { timeout: 5000 }, () => {
    expect(validateObject(POD, pod({ containers: [] }))).toEqual([{ type: 'FieldValueRequired', field: 'spec.containers', message: 'Required value' }]);
    const errs = validateObject(POD, pod({
      restartPolicy: 'Sometimes',
      containers: [
        { name: 'a', image: '', imagePullPolicy: 'Maybe', ports: [{ containerPort: 70000, protocol: 'TCPX' }] },
        { name: 'a', image: 'x', volumeMounts: [{ name: 'missing', mountPath: '/m' }], resources: { requests: { cpu: '2' }, limits: { cpu: '1', memory: '1GB' } } },
      ],
    }));
    expect(errs.map(formatFieldError)).toEqual([
      'spec.containers[0].image: Required value',
      'spec.containers[0].imagePullPolicy: Unsupported value: "Maybe": supported values: "Always", "IfNotPresent", "Never"',
      'spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive',
      'spec.containers[0].ports[0].protocol: Unsupported value: "TCPX": supported values: "SCTP", "TCP", "UDP"',
      'spec.containers[1].name: Duplicate value: "a"',
      'spec.containers[1].volumeMounts[0].name: Not found: "missing"',
      "spec.containers[1].resources.limits[memory]: Invalid value: \"1GB\": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
      'spec.containers[1].resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 1',
      'spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"',
    ]);
  });

  it('allows only image, activeDeadlineSeconds and added tolerations to change on a pod', { timeout: 5000 }, () => {
    const old = pod({ containers: [{ name: 'a', image: 'nginx:1' }], tolerations: [{ key: 'k', operator: 'Exists' }] });
    applyDefaults(POD, old);
    const newer = structuredClone(old);
    newer.spec.containers[0].image = 'nginx:2';
    newer.spec.tolerations.push({ key: 'j', operator: 'Exists' });
    expect(validateObject(POD, newer, old)).toEqual([]);
    const bad = structuredClone(old);
    bad.spec.containers[0].command = ['sh'];
    expect(validateObject(POD, bad, old)[0]).toMatchObject({ type: 'FieldValueForbidden', field: 'spec' });
    const renamed = structuredClone(old);
    renamed.metadata.name = 'other';
    expect(fields(validateObject(POD, renamed, old))).toContain('metadata.name');
  });

  it('checks deployments: selector, template labels, restart policy, selector immutability', { timeout: 5000 }, () => {
    const d: any = {
      metadata: { name: 'web', namespace: 'default' },
      spec: { selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'w', image: 'nginx' }] } } },
    };
    applyDefaults(DEPLOY, d);
    expect(validateObject(DEPLOY, d)).toEqual([]);
    const mismatch = structuredClone(d);
    mismatch.spec.template.metadata.labels = { app: 'other' };
    expect(validateObject(DEPLOY, mismatch).map(formatFieldError)).toEqual([
      'spec.template.metadata.labels: Invalid value: {"app":"other"}: `selector` does not match template `labels`']);
    const noSel = structuredClone(d);
    delete noSel.spec.selector;
    expect(fields(validateObject(DEPLOY, noSel))).toEqual(['spec.selector']);
    const never = structuredClone(d);
    never.spec.template.spec.restartPolicy = 'Never';
    expect(validateObject(DEPLOY, never).map(formatFieldError)).toEqual([
      'spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"']);
    const moved = structuredClone(d);
    moved.spec.selector = { matchLabels: { app: 'web', tier: 'x' } };
    moved.spec.template.metadata.labels.tier = 'x';
    expect(validateObject(DEPLOY, moved, d).map(formatFieldError)).toEqual([
      'spec.selector: Invalid value: {"matchLabels":{"app":"web","tier":"x"}}: field is immutable']);
    const negative = structuredClone(d);
    negative.spec.replicas = -1;
    expect(fields(validateObject(DEPLOY, negative))).toEqual(['spec.replicas']);
  });

  it('checks services, configmaps, secrets, jobs, cronjobs, bindings and CRDs', { timeout: 5000 }, () => {
    const SVC = { group: '', version: 'v1', kind: 'Service' };
    expect(fields(validateObject(SVC, { metadata: { name: 's', namespace: 'd' }, spec: { type: 'Weird', ports: [] } }))).toEqual(['spec.type', 'spec.ports']);
    expect(fields(validateObject(SVC, { metadata: { name: 's', namespace: 'd' }, spec: { ports: [{ port: 80 }, { port: 81 }] } }))).toEqual(['spec.ports[0].name', 'spec.ports[1].name']);
    const old = { metadata: { name: 's', namespace: 'd' }, spec: { clusterIP: '10.43.0.10', ports: [{ port: 80 }] } };
    expect(validateObject(SVC, { ...old, spec: { ...old.spec, clusterIP: '10.43.0.11' } }, old).map(formatFieldError))
      .toEqual(['spec.clusterIP: Invalid value: "10.43.0.11": field is immutable']);

    const CM = { group: '', version: 'v1', kind: 'ConfigMap' };
    expect(validateObject(CM, { metadata: { name: 'c', namespace: 'd' }, data: { 'bad key': 'v', a: 'x' }, binaryData: { a: 'AAE=' } }).map((e) => e.type))
      .toEqual(['FieldValueInvalid', 'FieldValueDuplicate']);
    const frozen = { metadata: { name: 'c', namespace: 'd' }, immutable: true, data: { a: '1' } };
    expect(validateObject(CM, { ...frozen, data: { a: '2' } }, frozen).map(formatFieldError)).toEqual(['data: Forbidden: field is immutable when `immutable` is set']);
    expect(fields(validateObject({ group: '', version: 'v1', kind: 'Secret' }, { metadata: { name: 's', namespace: 'd' }, data: { k: 'not base64!' } }))).toEqual(['data[k]']);

    const JOB = { group: 'batch', version: 'v1', kind: 'Job' };
    const job: any = { metadata: { name: 'j', namespace: 'd' }, spec: { template: { spec: { containers: [{ name: 'j', image: 'busybox' }] } } } };
    applyDefaults(JOB, job);
    expect(validateObject(JOB, job).map(formatFieldError)).toEqual(['spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: "OnFailure", "Never"']);
    job.spec.template.spec.restartPolicy = 'Never';
    expect(validateObject(JOB, job)).toEqual([]);
    const changed = structuredClone(job);
    changed.spec.template.spec.containers[0].image = 'other';
    expect(fields(validateObject(JOB, changed, job))).toEqual(['spec.template']);

    const CJ = { group: 'batch', version: 'v1', kind: 'CronJob' };
    expect(fields(validateObject(CJ, { metadata: { name: 'c', namespace: 'd' }, spec: { schedule: 'every minute', jobTemplate: { spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'x' }] } } } } } })))
      .toEqual(['spec.schedule']);
    expect(isValidCronSchedule('*/5 * * * *')).toBe(true);
    expect(isValidCronSchedule('0 0 1 jan mon-fri')).toBe(true);
    expect(isValidCronSchedule('@hourly')).toBe(true);
    expect(isValidCronSchedule('60 * * * *')).toBe(false);

    const RB = { group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'RoleBinding' };
    const rb = { metadata: { name: 'r', namespace: 'd' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'a' }, subjects: [{ kind: 'User', name: 'u' }] };
    expect(validateObject(RB, rb)).toEqual([]);
    expect(fields(validateObject(RB, { ...rb, roleRef: { ...rb.roleRef, name: 'b' } }, rb))).toEqual(['roleRef']);

    const CRD = { group: 'apiextensions.k8s.io', version: 'v1', kind: 'CustomResourceDefinition' };
    const crd = {
      metadata: { name: 'widgets.example.com' },
      spec: { group: 'example.com', scope: 'Namespaced', names: { plural: 'widgets', kind: 'Widget' }, versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object' } } }] },
    };
    expect(validateObject(CRD, crd)).toEqual([]);
    expect(fields(validateObject(CRD, { ...crd, metadata: { name: 'widget.example.com' } }))).toEqual(['metadata.name']);
  });
});

describe('api/validation: strict decoding and custom resources', () => {
  it('finds unknown fields along the schema', { timeout: 5000 }, () => {
    const obj = {
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x', labels: { any: 'thing' }, bogus: 1 },
      spec: { replicas: 1, foo: true, template: { spec: { containers: [{ name: 'a', image: 'b', imagePullPolicy: 'Always', colour: 'red' }] } } },
    };
    expect(unknownFields(DEPLOY, obj)).toEqual(['metadata.bogus', 'spec.foo', 'spec.template.spec.containers[0].colour']);
    // RawExtension content is free-form.
    expect(unknownFields({ group: 'apps', version: 'v1', kind: 'ControllerRevision' }, { metadata: { name: 'r' }, data: { anything: 1 }, revision: 1 })).toEqual([]);
    expect(unknownFields({ group: 'x', version: 'v1', kind: 'Nope' }, { a: 1 })).toEqual([]);
  });

  const schema: SchemaObject = {
    type: 'object',
    properties: {
      spec: {
        type: 'object', required: ['size'],
        properties: {
          size: { type: 'integer', minimum: 1, maximum: 10 },
          colour: { type: 'string', enum: ['red', 'blue'] },
          name: { type: 'string', maxLength: 5, pattern: '^[a-z]+$' },
          port: { 'x-kubernetes-int-or-string': true },
          tags: { type: 'array', maxItems: 2, items: { type: 'string' } },
          labels: { type: 'object', additionalProperties: { type: 'string' } },
          raw: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
          note: { type: 'string', nullable: true },
        },
      },
    },
  };

  it('validates custom objects against their openAPIV3Schema', { timeout: 5000 }, () => {
    const ok = { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' }, spec: { size: 3, colour: 'red', name: 'abc', port: 'http', tags: ['a'], labels: { a: 'b' }, raw: { x: 1 }, note: null } };
    expect(validateAgainstSchema(schema, ok, '')).toEqual([]);
    const bad = { spec: { size: 0, colour: 'pink', name: 'ABCDEFG', port: true, tags: ['a', 'b', 'c'], labels: { a: 1 } } };
    expect(validateAgainstSchema(schema, bad, '').map(formatFieldError)).toEqual([
      'spec.size: Invalid value: 0: spec.size in body should be greater than or equal to 1',
      'spec.colour: Unsupported value: "pink": supported values: "red", "blue"',
      'spec.name: Too long: may not be more than 5 bytes',
      "spec.name: Invalid value: \"ABCDEFG\": spec.name in body should match '^[a-z]+$'",
      'spec.port: Invalid value: true: spec.port in body must be of type integer,string: "boolean"',
      'spec.tags: Too many: 3: must have at most 2 items',
      'spec.labels.a: Invalid value: 1: spec.labels.a in body must be of type string: "integer"',
    ]);
    expect(validateAgainstSchema(schema, { spec: {} }, '').map(formatFieldError)).toEqual(['spec.size: Required value']);
    expect(validateAgainstSchema(schema, { spec: { size: 'big' } }, '').map(formatFieldError))
      .toEqual(['spec.size: Invalid value: "big": spec.size in body must be of type integer: "string"']);
  });

  it('prunes fields the schema does not specify', { timeout: 5000 }, () => {
    const obj: any = { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' }, extra: 1, spec: { size: 1, unknown: 'x', raw: { keep: { deep: 1 } }, labels: { a: 'b' } } };
    expect(pruneUnknownFields(schema, obj)).toEqual(['extra', 'spec.unknown']);
    expect(obj).toEqual({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' }, spec: { size: 1, raw: { keep: { deep: 1 } }, labels: { a: 'b' } } });
  });
});

describe('api/validation: strict decoding of custom objects', () => {
  it('knows apiVersion, kind and metadata even when the CRD schema does not declare them', { timeout: 5000 }, async () => {
    const { unknownFieldsBySchema } = await import('../../api/validation');
    const schema: SchemaObject = { type: 'object', properties: { spec: { type: 'object', properties: { size: { type: 'integer' } } } } };
    expect(unknownFieldsBySchema(schema, { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w', nope: 1 }, spec: { size: 1, colour: 'red' }, extra: 1 }))
      .toEqual(['metadata.nope', 'spec.colour', 'extra']);
  });
});

describe('api/validation: endpoints, quotas, nodes, network policies, ingresses', () => {
  it('checks addresses, quantities, taints, CIDRs and enums', { timeout: 5000 }, async () => {
    const { isCIDR, isIP } = await import('../../api/validation');
    const ep = validateObject({ group: '', version: 'v1', kind: 'Endpoints' }, {
      metadata: { name: 'web', namespace: 'd' },
      subsets: [{ addresses: [{ ip: '10.42.0.5' }, { ip: 'nope' }], ports: [{ port: 0 }] }],
    });
    expect(ep.map(formatFieldError)).toEqual([
      'subsets[0].addresses[1].ip: Invalid value: "nope": must be a valid IP address',
      'subsets[0].ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive',
    ]);
    expect(fields(validateObject({ group: '', version: 'v1', kind: 'ResourceQuota' }, { metadata: { name: 'q', namespace: 'd' }, spec: { hard: { pods: '10', cpu: 'lots' } } })))
      .toEqual(['spec.hard[cpu]']);
    expect(fields(validateObject({ group: '', version: 'v1', kind: 'LimitRange' }, { metadata: { name: 'l', namespace: 'd' }, spec: { limits: [{ type: 'Thing', max: { cpu: '2' } }] } })))
      .toEqual(['spec.limits[0].type']);
    expect(fields(validateObject({ group: '', version: 'v1', kind: 'Node' }, { metadata: { name: 'n1' }, spec: { podCIDR: '10.42.1.0/33', taints: [{ key: 'k', effect: 'Sometimes' }] } })))
      .toEqual(['spec.taints[0].effect', 'spec.podCIDR']);
    expect(fields(validateObject({ group: 'networking.k8s.io', version: 'v1', kind: 'NetworkPolicy' }, { metadata: { name: 'p', namespace: 'd' }, spec: { podSelector: {}, policyTypes: ['Ingress', 'Sideways'] } })))
      .toEqual(['spec.policyTypes[1]']);
    expect(fields(validateObject({ group: 'networking.k8s.io', version: 'v1', kind: 'Ingress' }, { metadata: { name: 'i', namespace: 'd' }, spec: { rules: [{ host: '*.example.com' }, { host: 'Bad_Host' }] } })))
      .toEqual(['spec.rules[1].host']);
    expect([isIP('10.0.0.1'), isIP('fd00::1'), isIP('256.1.1.1'), isCIDR('10.42.0.0/16'), isCIDR('fd00::/64'), isCIDR('10.42.0.0')]).toEqual([true, true, false, true, true, false]);
  });
});

describe('api/validation: immutable specs of claims and stateful sets', () => {
  it('lets a claim grow but not change class; forbids stateful set identity changes', { timeout: 5000 }, () => {
    const PVC = { group: '', version: 'v1', kind: 'PersistentVolumeClaim' };
    const claim = { metadata: { name: 'data', namespace: 'd' }, spec: { accessModes: ['ReadWriteOnce'], storageClassName: 'local', resources: { requests: { storage: '1Gi' } } } };
    expect(validateObject(PVC, claim)).toEqual([]);
    const grown = structuredClone(claim);
    grown.spec.resources.requests.storage = '2Gi';
    expect(validateObject(PVC, grown, claim)).toEqual([]);
    const bound: any = structuredClone(claim);
    bound.spec.volumeName = 'pv-1';
    expect(validateObject(PVC, bound, claim)).toEqual([]);
    expect(validateObject(PVC, { ...bound, spec: { ...bound.spec, volumeName: 'pv-2' } }, bound).map((e) => e.field)).toEqual(['spec']);
    const reclassed = structuredClone(claim);
    reclassed.spec.storageClassName = 'fast';
    expect(validateObject(PVC, reclassed, claim).map((e) => e.field)).toEqual(['spec']);
    // A claim made without a class may be given one later (retroactive default class), once.
    const classless: any = structuredClone(claim);
    delete classless.spec.storageClassName;
    expect(validateObject(PVC, claim, classless)).toEqual([]);
    expect(validateObject(PVC, reclassed, claim).map((e) => e.field)).toEqual(['spec']);
    const STS = { group: 'apps', version: 'v1', kind: 'StatefulSet' };
    const sts: any = {
      metadata: { name: 'db', namespace: 'd' },
      spec: { serviceName: 'db', selector: { matchLabels: { app: 'db' } }, template: { metadata: { labels: { app: 'db' } }, spec: { containers: [{ name: 'db', image: 'db:1' }] } } },
    };
    applyDefaults(STS, sts);
    expect(validateObject(STS, sts)).toEqual([]);
    const renamed = structuredClone(sts);
    renamed.spec.serviceName = 'other';
    renamed.spec.podManagementPolicy = 'Parallel';
    expect(validateObject(STS, renamed, sts).map((e) => e.type)).toEqual(['FieldValueForbidden']);
  });
});

describe('api/validation: Job failure/success policies and DaemonSet surge', () => {
  const JOB = { group: 'batch', version: 'v1', kind: 'Job' };
  const DS = { group: 'apps', version: 'v1', kind: 'DaemonSet' };
  const job = (spec: any, restartPolicy = 'Never'): any => {
    const j: any = { metadata: { name: 'j', namespace: 'd' }, spec: { template: { spec: { restartPolicy, containers: [{ name: 'main', image: 'busybox' }] } }, ...spec } };
    applyDefaults(JOB, j);
    return j;
  };
  const messages = (errs: any[]) => errs.map(formatFieldError);

  it('accepts a well-formed podFailurePolicy and rejects what upstream rejects', { timeout: 5000 }, () => {
    const ok = job({ podFailurePolicy: { rules: [
      { action: 'FailJob', onExitCodes: { containerName: 'main', operator: 'In', values: [1, 42] } },
      { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] },
    ] } });
    expect(validateObject(JOB, ok)).toEqual([]);
    // Defaults: a condition pattern's status is True; with a podFailurePolicy only failed pods are replaced.
    const defaulted = job({ podFailurePolicy: { rules: [{ action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget' }] }] } });
    expect(defaulted.spec.podFailurePolicy.rules[0].onPodConditions[0].status).toBe('True');
    expect(defaulted.spec.podReplacementPolicy).toBe('Failed');
    expect(validateObject(JOB, defaulted)).toEqual([]);
    expect(messages(validateObject(JOB, job({ podFailurePolicy: { rules: [{ action: 'Ignore', onExitCodes: { operator: 'In', values: [1] } }] } }, 'OnFailure'))))
      .toEqual(['spec.template.spec.restartPolicy: Invalid value: "OnFailure": only "Never" is supported when podFailurePolicy is specified']);
    const bad = job({ podFailurePolicy: { rules: [
      { action: 'Retry', onExitCodes: { containerName: 'other', operator: 'In', values: [0, 3, 3, 2] } },
      { action: 'Count', onExitCodes: { operator: 'NotIn', values: [1] }, onPodConditions: [{ type: 'X', status: 'True' }] },
      { action: 'FailIndex' },
    ] } });
    expect(messages(validateObject(JOB, bad))).toEqual([
      'spec.podFailurePolicy.rules[0].action: Unsupported value: "Retry": supported values: "Count", "FailIndex", "FailJob", "Ignore"',
      'spec.podFailurePolicy.rules[0].onExitCodes.containerName: Invalid value: "other": must be one of the container or initContainer names in the pod template',
      'spec.podFailurePolicy.rules[0].onExitCodes.values[0]: Invalid value: 0: must not be 0 for the In operator',
      'spec.podFailurePolicy.rules[0].onExitCodes.values[2]: Duplicate value: 3',
      'spec.podFailurePolicy.rules[0].onExitCodes.values: Invalid value: [0,3,3,2]: must be ordered',
      'spec.podFailurePolicy.rules[1]: Invalid value: specifying both OnExitCodes and OnPodConditions is not supported',
      'spec.podFailurePolicy.rules[2].action: Invalid value: "FailIndex": requires the backoffLimitPerIndex to be set',
      'spec.podFailurePolicy.rules[2]: Invalid value: specifying one of OnExitCodes and OnPodConditions is required',
    ]);
    const many = job({ podFailurePolicy: { rules: Array.from({ length: 21 }, () => ({ action: 'Count', onExitCodes: { operator: 'NotIn', values: [0] } })) } });
    expect(messages(validateObject(JOB, many))).toEqual(['spec.podFailurePolicy.rules: Too many: 21: must have at most 20 items']);
    expect(messages(validateObject(JOB, job({ podFailurePolicy: { rules: [] }, podReplacementPolicy: 'TerminatingOrFailed' }))))
      .toEqual(['spec.podReplacementPolicy: Unsupported value: "TerminatingOrFailed": supported values: "Failed"']);
  });

  it('checks successPolicy against completion mode, completions and the index list', { timeout: 5000 }, () => {
    const indexed = (successPolicy: any) => job({ completionMode: 'Indexed', completions: 5, parallelism: 5, successPolicy });
    expect(validateObject(JOB, indexed({ rules: [{ succeededIndexes: '0,2-4', succeededCount: 2 }] }))).toEqual([]);
    expect(messages(validateObject(JOB, job({ successPolicy: { rules: [{ succeededCount: 1 }] } }))))
      .toEqual(['spec.successPolicy: Invalid value: {"rules":[{"succeededCount":1}]}: requires indexed completion mode']);
    expect(messages(validateObject(JOB, indexed({ rules: [{}, { succeededIndexes: '3-1' }, { succeededIndexes: '0-1', succeededCount: 3 }, { succeededIndexes: '7' }] })))).toEqual([
      'spec.successPolicy.rules[0]: Required value: at least one of succeededCount or succeededIndexes must be specified',
      'spec.successPolicy.rules[1].succeededIndexes: Invalid value: "3-1": error parsing succeededIndexes: first index is greater than the last index: 3 > 1',
      'spec.successPolicy.rules[2].succeededCount: Invalid value: 3: must be less than or equal to 2 (the number of indexes in the specified succeededIndexes field)',
      'spec.successPolicy.rules[3].succeededIndexes: Invalid value: "7": error parsing succeededIndexes: too large index: 7',
    ]);
  });

  it('requires exactly one of maxUnavailable and maxSurge to be non-zero for a DaemonSet rolling update', { timeout: 5000 }, () => {
    const ds = (rollingUpdate: any): any => {
      const d: any = { metadata: { name: 'ds', namespace: 'd' }, spec: { selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } }, updateStrategy: { type: 'RollingUpdate', rollingUpdate } } };
      applyDefaults(DS, d);
      return d;
    };
    expect(validateObject(DS, ds(undefined))).toEqual([]);
    expect(validateObject(DS, ds({ maxUnavailable: 0, maxSurge: '25%' }))).toEqual([]);
    // maxSurge alone keeps the defaulted maxUnavailable of 1: upstream refuses that, the user must say 0.
    expect(messages(validateObject(DS, ds({ maxSurge: 1 })))).toEqual(['spec.updateStrategy.rollingUpdate.maxSurge: Invalid value: 1: may not be set when maxUnavailable is non-zero']);
    expect(messages(validateObject(DS, ds({ maxUnavailable: 0, maxSurge: 0 })))).toEqual(['spec.updateStrategy.rollingUpdate.maxUnavailable: Required value: cannot be 0 when maxSurge is 0']);
    expect(messages(validateObject(DS, ds({ maxUnavailable: '120%', maxSurge: 0 })))).toEqual(['spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: "120%": must not be greater than 100%']);
  });
});
