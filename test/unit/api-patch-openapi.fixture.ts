// Hand-written fragments of the Kubernetes v1.32 OpenAPI v3 definitions (Pod, Deployment, Service),
// shaped as /openapi/v3 serves them ($ref + allOf, extensions on properties), carrying exactly the
// patch-relevant extensions of k8s.io/api. Used by the patch and managedfields tests so they do
// not depend on api/schema's completeness.
import type { OpenAPISchema, SchemaResolver } from '../../api/patch';

const ref = (name: string, ext: Record<string, unknown> = {}): OpenAPISchema => ({ allOf: [{ $ref: `#/components/schemas/${name}` }], default: {}, ...ext });
const str: OpenAPISchema = { type: 'string' };
const int: OpenAPISchema = { type: 'integer', format: 'int32' };
const bool: OpenAPISchema = { type: 'boolean' };
const strMap: OpenAPISchema = { type: 'object', additionalProperties: { type: 'string', default: '' } };
const intOrString: OpenAPISchema = { 'x-kubernetes-int-or-string': true };
const listOf = (name: string, ext: Record<string, unknown> = {}): OpenAPISchema => ({ type: 'array', items: ref(name), ...ext });

export const definitions: Record<string, OpenAPISchema> = {
  'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta': {
    type: 'object',
    properties: {
      name: str, namespace: str, uid: str, resourceVersion: str, generation: { type: 'integer', format: 'int64' },
      creationTimestamp: { type: 'string', format: 'date-time' },
      labels: strMap, annotations: strMap,
      finalizers: { type: 'array', items: { type: 'string', default: '' }, 'x-kubernetes-list-type': 'set', 'x-kubernetes-patch-strategy': 'merge' },
      ownerReferences: listOf('io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference', { 'x-kubernetes-list-map-keys': ['uid'], 'x-kubernetes-list-type': 'map', 'x-kubernetes-patch-merge-key': 'uid', 'x-kubernetes-patch-strategy': 'merge' }),
      managedFields: listOf('io.k8s.apimachinery.pkg.apis.meta.v1.ManagedFieldsEntry', { 'x-kubernetes-list-type': 'atomic' }),
    },
  },
  'io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference': {
    type: 'object', required: ['apiVersion', 'kind', 'name', 'uid'],
    properties: { apiVersion: str, kind: str, name: str, uid: str, controller: bool, blockOwnerDeletion: bool },
    'x-kubernetes-map-type': 'atomic',
  },
  'io.k8s.apimachinery.pkg.apis.meta.v1.ManagedFieldsEntry': {
    type: 'object',
    properties: { manager: str, operation: str, apiVersion: str, time: str, fieldsType: str, fieldsV1: { type: 'object' }, subresource: str },
  },
  'io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector': {
    type: 'object',
    properties: { matchLabels: strMap, matchExpressions: { type: 'array', items: { type: 'object' }, 'x-kubernetes-list-type': 'atomic' } },
    'x-kubernetes-map-type': 'atomic',
  },
  'io.k8s.api.apps.v1.Deployment': {
    type: 'object',
    properties: {
      apiVersion: str, kind: str,
      metadata: ref('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta'),
      spec: ref('io.k8s.api.apps.v1.DeploymentSpec'),
      status: ref('io.k8s.api.apps.v1.DeploymentStatus'),
    },
    'x-kubernetes-group-version-kind': [{ group: 'apps', kind: 'Deployment', version: 'v1' }],
  },
  'io.k8s.api.apps.v1.DeploymentSpec': {
    type: 'object',
    properties: {
      replicas: int, minReadySeconds: int, revisionHistoryLimit: int, progressDeadlineSeconds: int, paused: bool,
      selector: ref('io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector'),
      template: ref('io.k8s.api.core.v1.PodTemplateSpec'),
      strategy: ref('io.k8s.api.apps.v1.DeploymentStrategy', { 'x-kubernetes-patch-strategy': 'retainKeys' }),
    },
  },
  'io.k8s.api.apps.v1.DeploymentStrategy': {
    type: 'object',
    properties: { type: str, rollingUpdate: ref('io.k8s.api.apps.v1.RollingUpdateDeployment') },
  },
  'io.k8s.api.apps.v1.RollingUpdateDeployment': { type: 'object', properties: { maxSurge: intOrString, maxUnavailable: intOrString } },
  'io.k8s.api.apps.v1.DeploymentStatus': {
    type: 'object',
    properties: {
      observedGeneration: int, replicas: int, readyReplicas: int, updatedReplicas: int, availableReplicas: int,
      conditions: listOf('io.k8s.api.apps.v1.DeploymentCondition', { 'x-kubernetes-list-map-keys': ['type'], 'x-kubernetes-list-type': 'map', 'x-kubernetes-patch-merge-key': 'type', 'x-kubernetes-patch-strategy': 'merge' }),
    },
  },
  'io.k8s.api.apps.v1.DeploymentCondition': { type: 'object', properties: { type: str, status: str, reason: str, message: str } },
  'io.k8s.api.core.v1.PodTemplateSpec': {
    type: 'object',
    properties: { metadata: ref('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta'), spec: ref('io.k8s.api.core.v1.PodSpec') },
  },
  'io.k8s.api.core.v1.Pod': {
    type: 'object',
    properties: {
      apiVersion: str, kind: str,
      metadata: ref('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta'),
      spec: ref('io.k8s.api.core.v1.PodSpec'),
      status: ref('io.k8s.api.core.v1.PodStatus'),
    },
  },
  'io.k8s.api.core.v1.PodSpec': {
    type: 'object',
    properties: {
      containers: listOf('io.k8s.api.core.v1.Container', { 'x-kubernetes-list-map-keys': ['name'], 'x-kubernetes-list-type': 'map', 'x-kubernetes-patch-merge-key': 'name', 'x-kubernetes-patch-strategy': 'merge' }),
      initContainers: listOf('io.k8s.api.core.v1.Container', { 'x-kubernetes-list-map-keys': ['name'], 'x-kubernetes-list-type': 'map', 'x-kubernetes-patch-merge-key': 'name', 'x-kubernetes-patch-strategy': 'merge' }),
      volumes: listOf('io.k8s.api.core.v1.Volume', { 'x-kubernetes-list-map-keys': ['name'], 'x-kubernetes-list-type': 'map', 'x-kubernetes-patch-merge-key': 'name', 'x-kubernetes-patch-strategy': 'merge,retainKeys' }),
      tolerations: listOf('io.k8s.api.core.v1.Toleration', { 'x-kubernetes-list-type': 'atomic' }),
      nodeSelector: { ...strMap, 'x-kubernetes-map-type': 'atomic' },
      imagePullSecrets: listOf('io.k8s.api.core.v1.LocalObjectReference', { 'x-kubernetes-list-map-keys': ['name'], 'x-kubernetes-list-type': 'map', 'x-kubernetes-patch-merge-key': 'name', 'x-kubernetes-patch-strategy': 'merge' }),
      restartPolicy: str, dnsPolicy: str, serviceAccountName: str, nodeName: str, schedulerName: str,
      terminationGracePeriodSeconds: { type: 'integer', format: 'int64' },
    },
  },
  'io.k8s.api.core.v1.LocalObjectReference': { type: 'object', properties: { name: str }, 'x-kubernetes-map-type': 'atomic' },
  'io.k8s.api.core.v1.Container': {
    type: 'object', required: ['name'],
    properties: {
      name: str, image: str, imagePullPolicy: str, workingDir: str,
      command: { type: 'array', items: { type: 'string', default: '' }, 'x-kubernetes-list-type': 'atomic' },
      args: { type: 'array', items: { type: 'string', default: '' }, 'x-kubernetes-list-type': 'atomic' },
      env: listOf('io.k8s.api.core.v1.EnvVar', { 'x-kubernetes-list-map-keys': ['name'], 'x-kubernetes-list-type': 'map', 'x-kubernetes-patch-merge-key': 'name', 'x-kubernetes-patch-strategy': 'merge' }),
      ports: listOf('io.k8s.api.core.v1.ContainerPort', { 'x-kubernetes-list-map-keys': ['containerPort', 'protocol'], 'x-kubernetes-list-type': 'map', 'x-kubernetes-patch-merge-key': 'containerPort', 'x-kubernetes-patch-strategy': 'merge' }),
      volumeMounts: listOf('io.k8s.api.core.v1.VolumeMount', { 'x-kubernetes-list-map-keys': ['mountPath'], 'x-kubernetes-list-type': 'map', 'x-kubernetes-patch-merge-key': 'mountPath', 'x-kubernetes-patch-strategy': 'merge' }),
      resources: ref('io.k8s.api.core.v1.ResourceRequirements'),
    },
  },
  'io.k8s.api.core.v1.ResourceRequirements': { type: 'object', properties: { limits: strMap, requests: strMap } },
  'io.k8s.api.core.v1.EnvVar': { type: 'object', required: ['name'], properties: { name: str, value: str, valueFrom: ref('io.k8s.api.core.v1.EnvVarSource') } },
  'io.k8s.api.core.v1.EnvVarSource': { type: 'object', properties: { fieldRef: ref('io.k8s.api.core.v1.ObjectFieldSelector') } },
  'io.k8s.api.core.v1.ObjectFieldSelector': { type: 'object', properties: { apiVersion: str, fieldPath: str }, 'x-kubernetes-map-type': 'atomic' },
  'io.k8s.api.core.v1.ContainerPort': {
    type: 'object', required: ['containerPort'],
    properties: { name: str, containerPort: int, hostPort: int, protocol: { type: 'string', default: 'TCP' } },
  },
  'io.k8s.api.core.v1.VolumeMount': { type: 'object', properties: { name: str, mountPath: str, readOnly: bool } },
  'io.k8s.api.core.v1.Volume': {
    type: 'object', required: ['name'],
    properties: {
      name: str,
      configMap: ref('io.k8s.api.core.v1.ConfigMapVolumeSource'),
      emptyDir: ref('io.k8s.api.core.v1.EmptyDirVolumeSource'),
      secret: ref('io.k8s.api.core.v1.SecretVolumeSource'),
    },
  },
  'io.k8s.api.core.v1.ConfigMapVolumeSource': { type: 'object', properties: { name: str, defaultMode: int } },
  'io.k8s.api.core.v1.EmptyDirVolumeSource': { type: 'object', properties: { medium: str, sizeLimit: str } },
  'io.k8s.api.core.v1.SecretVolumeSource': { type: 'object', properties: { secretName: str } },
  'io.k8s.api.core.v1.Toleration': { type: 'object', properties: { key: str, operator: str, value: str, effect: str, tolerationSeconds: int } },
  'io.k8s.api.core.v1.PodStatus': {
    type: 'object',
    properties: {
      phase: str, podIP: str, hostIP: str,
      conditions: listOf('io.k8s.api.core.v1.PodCondition', { 'x-kubernetes-list-map-keys': ['type'], 'x-kubernetes-list-type': 'map', 'x-kubernetes-patch-merge-key': 'type', 'x-kubernetes-patch-strategy': 'merge' }),
    },
  },
  'io.k8s.api.core.v1.PodCondition': { type: 'object', properties: { type: str, status: str, reason: str } },
  'io.k8s.api.core.v1.Service': {
    type: 'object',
    properties: {
      apiVersion: str, kind: str,
      metadata: ref('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta'),
      spec: ref('io.k8s.api.core.v1.ServiceSpec'),
    },
  },
  'io.k8s.api.core.v1.ServiceSpec': {
    type: 'object',
    properties: {
      ports: listOf('io.k8s.api.core.v1.ServicePort', { 'x-kubernetes-list-map-keys': ['port', 'protocol'], 'x-kubernetes-list-type': 'map', 'x-kubernetes-patch-merge-key': 'port', 'x-kubernetes-patch-strategy': 'merge' }),
      selector: { ...strMap, 'x-kubernetes-map-type': 'atomic' },
      type: str, clusterIP: str,
    },
  },
  'io.k8s.api.core.v1.ServicePort': {
    type: 'object', required: ['port'],
    properties: { name: str, protocol: { type: 'string', default: 'TCP' }, port: int, targetPort: intOrString, nodePort: int },
  },
};

export const resolve: SchemaResolver = (s) => {
  const name = s.$ref?.replace('#/components/schemas/', '');
  return name ? definitions[name] : undefined;
};

export const deploymentSchema = { schema: definitions['io.k8s.api.apps.v1.Deployment'], resolve };
export const podSchema = { schema: definitions['io.k8s.api.core.v1.Pod'], resolve };
export const serviceSchema = { schema: definitions['io.k8s.api.core.v1.Service'], resolve };
