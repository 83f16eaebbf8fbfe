// The stored JSON of a write reused as its response: byte-identical to JSON.stringify.
import { describe, expect, it } from 'vitest';
import { encodeStored, responseJson } from '../../server/apiserver/written-json';

function written(obj: any, rv: string): { stored: string; response: string | undefined } {
  const stored = encodeStored(obj).toString();
  obj.metadata.resourceVersion = rv;
  return { stored, response: responseJson(obj) };
}

describe('encodeStored / responseJson', () => {
  it('stores without resourceVersion and answers what JSON.stringify would', () => {
    const obj: any = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', namespace: 'd', labels: { x: 'y' }, resourceVersion: '5' }, data: { k: 'v "q" \u2713' } };
    const { stored, response } = written(obj, '17');
    expect(JSON.parse(stored).metadata.resourceVersion).toBeUndefined();
    expect(stored).toBe(JSON.stringify({ ...obj, metadata: { name: 'a', namespace: 'd', labels: { x: 'y' } } }));
    expect(response).toBe(JSON.stringify(obj));
    // Used once.
    expect(responseJson(obj)).toBeUndefined();
  });

  it('skips undefined fields as JSON.stringify does, and handles empty metadata', () => {
    const obj: any = { apiVersion: 'v1', kind: 'Pod', status: undefined, metadata: {}, spec: { a: undefined, b: [1, null] } };
    const { response } = written(obj, '3');
    expect(response).toBe(JSON.stringify(obj));
  });

  it('metadata first or last among the fields', () => {
    const a: any = { metadata: { name: 'n' }, kind: 'X' };
    expect(written(a, '1').response).toBe(JSON.stringify(a));
    const b: any = { kind: 'X', spec: {}, metadata: { name: 'n' } };
    expect(written(b, '2').response).toBe(JSON.stringify(b));
  });

  it('declines when the object was not written or metadata changed shape', () => {
    expect(responseJson({ metadata: { resourceVersion: '1' } })).toBeUndefined();
    const obj: any = { kind: 'X', metadata: { name: 'n' } };
    encodeStored(obj);
    obj.metadata.resourceVersion = '4';
    obj.metadata.generation = 2;
    expect(responseJson(obj)).toBeUndefined();
  });
});
