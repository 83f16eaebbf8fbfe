import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeEnvelope, decodeProtobufBody, ProtobufDecodeError } from '../../api/protobuf';

const FIXTURES = path.resolve(__dirname, '../fixtures/protobuf');
const read = (name: string) => fs.readFileSync(path.join(FIXTURES, name));

/** Go's JSON writes unset times as null; the same object without them. */
function dropNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(dropNulls);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== null).map(([k, x]) => [k, dropNulls(x)]));
  return v;
}

describe('api/protobuf: wire types kubectl create never sends (build/encode-protobuf-fixtures.ts, protobufjs + upstream .proto)', () => {
  for (const name of ['synthetic-deployment', 'synthetic-event', 'synthetic-crd', 'synthetic-subjectaccessreview', 'synthetic-controllerrevision', 'synthetic-secret']) {
    it(`decodes ${name}`, { timeout: 5000 }, () => {
      expect(decodeProtobufBody(read(`${name}.pb`))).toEqual(JSON.parse(read(`${name}.json`).toString()));
    });
  }
});

describe('api/protobuf: bodies the real kubectl 1.32 sent (build/capture-protobuf-fixtures.ts)', () => {
  for (const name of ['configmap', 'secret', 'namespace', 'deployment', 'service', 'job', 'cronjob']) {
    it(`decodes kubectl create ${name} to what kubectl --dry-run=client -o json shows`, { timeout: 5000 }, () => {
      const decoded = decodeProtobufBody(read(`${name}.pb`));
      expect(decoded).toEqual(dropNulls(JSON.parse(read(`${name}.json`).toString())));
    });
  }

  it('decodes the TokenRequest of kubectl create token', { timeout: 5000 }, () => {
    expect(decodeProtobufBody(read('tokenrequest.pb'))).toEqual({
      apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', metadata: {},
      spec: {
        audiences: ['api'], expirationSeconds: 3600,
        boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'web-0', uid: '0b7c9c8e-1f1a-4b7e-9a55-1c2d3e4f5a6b' },
      },
      status: { token: '' },
    });
  });

  it('decodes the SelfSubjectAccessReview of kubectl auth can-i', { timeout: 5000 }, () => {
    expect(decodeProtobufBody(read('selfsubjectaccessreview.pb'))).toEqual({
      apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', metadata: {},
      spec: { resourceAttributes: { namespace: 'prod', verb: 'create', group: 'apps', resource: 'deployments' } },
      status: { allowed: false },
    });
  });

  it('reads the envelope and rejects what is not Kubernetes protobuf', { timeout: 5000 }, () => {
    const env = decodeEnvelope(read('deployment.pb'));
    expect(env).toMatchObject({ apiVersion: 'apps/v1', kind: 'Deployment', contentEncoding: '', contentType: '' });
    expect(() => decodeProtobufBody(Buffer.from('{"kind":"Pod"}'))).toThrow(ProtobufDecodeError);
    expect(() => decodeProtobufBody(Buffer.from('{"kind":"Pod"}'))).toThrow(/k8s\\0 prefix/);
    const truncated = read('deployment.pb').subarray(0, 100);
    expect(() => decodeProtobufBody(truncated)).toThrow(ProtobufDecodeError);
    // An envelope naming a kind orch does not serve.
    const other = Buffer.concat([Buffer.from([0x6b, 0x38, 0x73, 0x00, 0x0a, 0x0c, 0x0a, 0x02]), Buffer.from('v1'), Buffer.from([0x12, 0x06]), Buffer.from('Widget')]);
    expect(() => decodeProtobufBody(other)).toThrow(/no protobuf schema for kind Widget in v1/);
    // DeleteOptions of a typed client, sent under the resource's group-version.
    const opts = Buffer.concat([Buffer.from([0x08, 0x00, 0x22, 0x0a]), Buffer.from('Foreground'), Buffer.from([0x2a, 0x03]), Buffer.from('All')]);
    const typeMeta = Buffer.concat([Buffer.from([0x0a, 0x07]), Buffer.from('apps/v1'), Buffer.from([0x12, 0x0d]), Buffer.from('DeleteOptions')]);
    const envelope = Buffer.concat([Buffer.from([0x6b, 0x38, 0x73, 0x00, 0x0a, typeMeta.length]), typeMeta, Buffer.from([0x12, opts.length]), opts]);
    expect(decodeProtobufBody(envelope)).toEqual({ apiVersion: 'apps/v1', kind: 'DeleteOptions', gracePeriodSeconds: 0, propagationPolicy: 'Foreground', dryRun: ['All'] });
    try { decodeProtobufBody(truncated); } catch (err) { expect((err as ProtobufDecodeError).code).toBe('ProtobufDecodeError'); }
  });
});
