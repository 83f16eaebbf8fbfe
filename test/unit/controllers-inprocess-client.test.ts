import { describe, expect, it } from 'vitest';
import { ApiError, R, isConflict, isNotFound } from '../../server/controllers/client';
import { conflict, notFound, STALE_OBJECT } from '../../server/apiserver/errors';
import { InProcessClient, type LocalClientLike } from '../../server/controllers/inprocess-client';
import { FakeCluster } from './helpers/fake-cluster';


describe('InProcessClient', () => {
  it('passes calls through; the apiserver\'s errors are the controllers\' ApiError', async () => {
    const f = new FakeCluster();
    const local = f as unknown as LocalClientLike;
    const failing: LocalClientLike = {
      ...local,
      get: async () => { throw notFound('', 'pods', 'x'); },
      update: async () => { throw conflict('', 'pods', 'x', STALE_OBJECT); },
    } as LocalClientLike;
    const c = new InProcessClient(failing);
    const err = await c.get(R.pods, 'default', 'x').catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ httpStatus: 404, code: 'NotFound', reason: 'NotFound', message: 'pods "x" not found' });
    expect(isNotFound(err)).toBe(true);
    expect(isConflict(await c.update(R.pods, { metadata: { name: 'x', namespace: 'default' } }).catch((e) => e))).toBe(true);
    const ok = new InProcessClient(local);
    const created = await ok.create(R.configmaps, 'default', { metadata: { name: 'a' }, data: {} });
    expect((await ok.get(R.configmaps, 'default', 'a')).metadata.uid).toBe(created.metadata.uid);
    // Non-API errors pass through untouched.
    const boom = new InProcessClient({ ...local, list: async () => { throw new TypeError('bug'); } } as LocalClientLike);
    expect(await boom.list(R.pods, undefined).catch((e) => e)).toBeInstanceOf(TypeError);
  });
});
