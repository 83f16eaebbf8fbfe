// NamespaceCache over a real store and watch cache: unknown until synced, then follows creates,
// termination and deletes; a name it has not seen yet is "unknown" (the registry reads the store).
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore, type LogStore } from '../../embedded-store';
import { WatchCache } from '../../server/apiserver/watchcache';
import { NamespaceCache } from '../../server/apiserver/namespace-cache';
import { waitForValue } from './helpers/wait';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => { for (const c of cleanups.splice(0).reverse()) await c(); });

async function setup(): Promise<{ store: LogStore; cache: NamespaceCache; watchCache: WatchCache }> {
  const dir = mkdtempSync(join(tmpdir(), 'orch-test-nscache-'));
  const store = await openSqliteStore({ path: join(dir, 'state.db'), compactIntervalMs: 0 });
  const watchCache = new WatchCache(store);
  const cache = new NamespaceCache(store, watchCache);
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }), () => store.close(), () => watchCache.stop());
  return { store, cache, watchCache };
}

const ns = (name: string, extra: Record<string, unknown> = {}): Buffer => Buffer.from(JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name }, ...extra }));

describe('NamespaceCache', () => {
  it('answers from the list, then follows creates, termination and deletes', async () => {
    const { store, cache } = await setup();
    await store.create('/registry/namespaces/default', ns('default'));
    // Not synced yet: unknown, and the first lookup starts the sync.
    expect(cache.lookup('default')).toBeUndefined();
    expect(await waitForValue(() => cache.lookup('default'), 5000, 'the list')).toEqual({ terminating: false });
    expect(cache.lookup('absent')).toBeUndefined();

    const kv = await store.create('/registry/namespaces/team', ns('team'));
    expect(await waitForValue(() => cache.lookup('team'), 5000, 'the ADDED event')).toEqual({ terminating: false });

    await store.update('/registry/namespaces/team', ns('team', { metadata: { name: 'team', deletionTimestamp: '2026-01-01T00:00:00Z' }, status: { phase: 'Terminating' } }), kv.modRevision);
    await waitForValue(() => (cache.lookup('team')?.terminating ? true : undefined), 5000, 'the termination');

    await store.delete('/registry/namespaces/team');
    await waitForValue(() => (cache.lookup('team') === undefined ? true : undefined), 5000, 'the DELETED event');
    expect(cache.lookup('default')).toEqual({ terminating: false });
  }, 20_000);

  it('stops answering when stopped or when the watch cache shuts down', async () => {
    const { store, cache, watchCache } = await setup();
    await store.create('/registry/namespaces/default', ns('default'));
    cache.lookup('default');
    await waitForValue(() => cache.lookup('default'), 5000, 'the list');
    watchCache.stop();
    await waitForValue(() => (cache.lookup('default') === undefined ? true : undefined), 5000, 'the cache to let go');
    // It does not restart on a closed watch cache's behalf.
    await new Promise((r) => setTimeout(r, 50));
    expect(cache.lookup('default')).toBeUndefined();
  }, 20_000);
});
