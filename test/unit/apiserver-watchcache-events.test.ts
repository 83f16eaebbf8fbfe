// The watch cache's events decode their objects from the stored bytes on first use; what they
// yield must be what eager decoding gave: resourceVersions per event type, and an in-process
// copy that is a separate object from the one HTTP watchers share.
import { describe, expect, it } from 'vitest';
import type { KeyValue } from '../../embedded-store/types';
import { inProcessCopy, toObjectEvent } from '../../server/apiserver/watchcache';

const kv = (obj: unknown, modRevision: number): KeyValue => ({ key: '/registry/pods/ns/a', value: Buffer.from(JSON.stringify(obj)), createRevision: 5, modRevision, ttlSeconds: 0 });
const pod = (phase: string): any => ({ kind: 'Pod', metadata: { name: 'a', namespace: 'ns' }, status: { phase } });

describe('watch cache events', { timeout: 10_000 }, () => {
  it('ADDED: the object at its revision, no old object', () => {
    const ev = toObjectEvent({ type: 'create', revision: 5, kv: kv(pod('Pending'), 5) });
    expect(ev.type).toBe('ADDED');
    expect(ev.oldObject).toBeUndefined();
    expect(ev.object).toEqual({ ...pod('Pending'), metadata: { name: 'a', namespace: 'ns', resourceVersion: '5' } });
  });

  it('MODIFIED: new and old objects at their own revisions; the in-process copy is equal but separate', () => {
    const ev = toObjectEvent({ type: 'update', revision: 9, kv: kv(pod('Running'), 9), prevKv: kv(pod('Pending'), 5) });
    expect(ev.type).toBe('MODIFIED');
    const copy = inProcessCopy(ev);
    expect(copy.metadata.resourceVersion).toBe('9');
    expect(copy.status.phase).toBe('Running');
    expect(inProcessCopy(ev)).toBe(copy);
    // Decoded after the copy was taken: still the stored object, and not the copy itself.
    expect(ev.object).toEqual(copy);
    expect(ev.object).not.toBe(copy);
    expect(ev.oldObject.metadata.resourceVersion).toBe('5');
    expect(ev.oldObject.status.phase).toBe('Pending');
    expect(ev.object).toBe(ev.object);
  });

  it('DELETED: the last state at the delete revision, the old object at its own', () => {
    const ev = toObjectEvent({ type: 'delete', revision: 12, kv: { ...kv({}, 12), value: Buffer.alloc(0) }, prevKv: kv(pod('Running'), 9) });
    expect(ev.type).toBe('DELETED');
    expect(ev.object.metadata.resourceVersion).toBe('12');
    expect(ev.oldObject.metadata.resourceVersion).toBe('9');
    expect(inProcessCopy(ev).metadata.resourceVersion).toBe('12');
    const bare = toObjectEvent({ type: 'delete', revision: 13, kv: { ...kv({}, 13), value: Buffer.alloc(0) } });
    expect(bare.object).toEqual({ metadata: { resourceVersion: '13' } });
    expect(bare.oldObject).toBeUndefined();
    expect(inProcessCopy(bare)).toEqual({ metadata: { resourceVersion: '13' } });
  });
});
