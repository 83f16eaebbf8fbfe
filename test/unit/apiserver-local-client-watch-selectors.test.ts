// In-process watches over a real SQLite store and registry: events are filtered by selectors as
// before, whether the selector is answered from the event's key (name/namespace only) or from
// its objects (labels, other fields), and events without selectors pass unchanged.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../embedded-store';
import type { Store } from '../../embedded-store/types';
import { LocalClient, type LocalWatchEvent } from '../../server/apiserver/local-client';
import { Registry } from '../../server/apiserver/registry';
import { ResourceTable } from '../../server/apiserver/resources';

const CM = { group: '', version: 'v1', resource: 'configmaps' };
const NS = { group: '', version: 'v1', resource: 'namespaces' };
let dir: string;
let store: Store;
let client: LocalClient;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'orch-test-localwatch-'));
  store = await openSqliteStore({ path: join(dir, 'state.db'), compactIntervalMs: 0 });
  const table = new ResourceTable();
  const registry = new Registry(store, (g, p) => table.all().find((r) => r.group === g && r.plural === p));
  client = new LocalClient(registry, table);
  for (const name of ['a', 'b']) await client.create(NS, '', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
}, 20_000);
afterAll(async () => { await (store as { close?: () => Promise<void> | void }).close?.(); rmSync(dir, { recursive: true, force: true }); });

type Selectors = { labelSelector?: string; fieldSelector?: string };
async function seen(sel: Selectors | ((tag: string) => Selectors), namespace?: string): Promise<string[]> {
  const events: string[] = [];
  const rv = String(store.currentRevision());
  const tag = Math.random().toString(36).slice(2, 7);
  const opts = typeof sel === 'function' ? sel(tag) : sel;
  const h = client.watch(CM, namespace, { ...opts, resourceVersion: rv }, (e: LocalWatchEvent) => {
    events.push(`${e.type} ${e.object.metadata.namespace}/${e.object.metadata.name} ${e.object.metadata.labels?.tier ?? '-'}`);
  }, () => {});
  const names = { x: `x-${tag}`, root: `root-${tag}` };
  for (const ns of ['a', 'b']) {
    for (const name of [names.x, names.root]) await client.create(CM, ns, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels: { tier: 'one' } }, data: {} });
    const cur = await client.get(CM, ns, names.root);
    await client.update(CM, { ...cur, metadata: { ...cur.metadata, labels: { tier: 'two' } } });
    await client.delete(CM, ns, names.x);
  }
  const deadline = Date.now() + 5000;
  const want = store.currentRevision();
  // The watch has seen everything once a catch-all watch from the same start has (same cache, in order).
  while (Date.now() < deadline) {
    let last = 0;
    const probe = client.watch(CM, undefined, { resourceVersion: rv }, (e) => { last = Math.max(last, Number(e.object.metadata.resourceVersion)); }, () => {});
    await new Promise((r) => setTimeout(r, 50));
    probe.stop();
    if (last >= want) break;
  }
  await new Promise((r) => setTimeout(r, 50));
  h.stop();
  return events.map((e) => e.replaceAll(`-${tag}`, ''));
}

describe('in-process watch selectors', { timeout: 30_000 }, () => {
  it('no selector: every event', async () => {
    expect(await seen({})).toEqual([
      'ADDED a/x one', 'ADDED a/root one', 'MODIFIED a/root two', 'DELETED a/x one',
      'ADDED b/x one', 'ADDED b/root one', 'MODIFIED b/root two', 'DELETED b/x one',
    ]);
  });

  it('name and namespace selectors (answered from the key)', async () => {
    expect(await seen((tag) => ({ fieldSelector: `metadata.name=root-${tag}` }))).toEqual(['ADDED a/root one', 'MODIFIED a/root two', 'ADDED b/root one', 'MODIFIED b/root two']);
    expect(await seen((tag) => ({ fieldSelector: `metadata.name=root-${tag},metadata.namespace=b` }))).toEqual(['ADDED b/root one', 'MODIFIED b/root two']);
    expect(await seen({ fieldSelector: 'metadata.name=root' })).toEqual([]);
    expect(await seen({ fieldSelector: 'metadata.namespace=b' })).toEqual(['ADDED b/x one', 'ADDED b/root one', 'MODIFIED b/root two', 'DELETED b/x one']);
    expect(await seen({ fieldSelector: 'metadata.namespace!=b' })).toEqual(['ADDED a/x one', 'ADDED a/root one', 'MODIFIED a/root two', 'DELETED a/x one']);
    expect(await seen({ fieldSelector: 'metadata.namespace=a' }, 'a')).toEqual(['ADDED a/x one', 'ADDED a/root one', 'MODIFIED a/root two', 'DELETED a/x one']);
  });

  it('label selectors (answered from the objects): a label change is an ADDED or DELETED', async () => {
    expect(await seen({ labelSelector: 'tier=two' })).toEqual(['ADDED a/root two', 'ADDED b/root two']);
    expect(await seen({ labelSelector: 'tier=one', fieldSelector: 'metadata.namespace=a' })).toEqual(['ADDED a/x one', 'ADDED a/root one', 'DELETED a/root two', 'DELETED a/x one']);
  });
});
