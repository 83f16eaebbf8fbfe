// `orch store`: look into the embedded store the way etcdctl looks into etcd, to learn what
// Kubernetes keeps (/registry/<resource>/<namespace>/<name>). It opens the database file directly.
import fs from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { KeyValue, LogStore } from '../../embedded-store';
import { DEFAULT_DATA_DIR, datastorePath } from '../../server/paths';
import { prepareNativeAddons } from '../native-addons';

export type StoreCommandErrorCode = 'StoreNotFound' | 'KeyNotFound';

export class StoreCommandError extends Error {
  override name = 'StoreCommandError';
  constructor(readonly code: StoreCommandErrorCode, message: string) {
    super(message);
  }
}

interface CommonOpts { dataDir: string }

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a non-negative integer');
  return n;
}

/** Opens the store under --data-dir; reads never create a database where there was none. */
async function withStore<T>(opts: CommonOpts, create: boolean, fn: (store: LogStore) => Promise<T>): Promise<T> {
  const file = datastorePath(opts.dataDir);
  if (!create && !fs.existsSync(file)) {
    throw new StoreCommandError('StoreNotFound', `no datastore at ${file} (is --data-dir right?)`);
  }
  const { betterSqlite3Binding } = prepareNativeAddons();
  // No background compaction from a short-lived command.
  const { openDatastore } = await import('../../server/datastore');
  const store = await openDatastore(opts.dataDir, { nativeBinding: betterSqlite3Binding, compactIntervalMs: 0 });
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

/** Values are printed as text when they are UTF-8 JSON (what orch's apiserver writes), else base64. */
export function formatValue(value: Buffer): string {
  const text = value.toString('utf8');
  if (Buffer.from(text, 'utf8').equals(value)) {
    try {
      JSON.parse(text);
      return text;
    } catch {
      // Not JSON: printable UTF-8 still reads best as text.
      if (!/[\u0000-\u0008\u000e-\u001f]/.test(text)) return text;
    }
  }
  return `base64:${value.toString('base64')}`;
}

function kvJson(kv: KeyValue): object {
  let value: unknown = formatValue(kv.value);
  try {
    value = JSON.parse(kv.value.toString('utf8'));
  } catch {
    // value stays text or base64
  }
  return { key: kv.key, createRevision: kv.createRevision, modRevision: kv.modRevision, ttlSeconds: kv.ttlSeconds, value };
}

function warnIfRegistry(key: string, verb: string): void {
  if (key.startsWith('/registry/') || key === '/registry') {
    process.stderr.write(`warning: ${verb} under /registry bypasses the apiserver: no validation, no admission, ` +
      `and a running orch server's watchers do not see it; stop the server first\n`);
  }
}

async function readValueArg(value: string): Promise<Buffer> {
  if (value !== '-') return Buffer.from(value, 'utf8');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export function registerStore(program: Command): void {
  const store = program
    .command('store')
    .description('read and write the embedded store directly, like etcdctl (keys such as /registry/pods/default/web)');
  const dataDir = () => new Option('-d, --data-dir <dir>', 'orch data directory').default(DEFAULT_DATA_DIR);
  const output = () => new Option('-o, --output <format>', 'value: the value only; json: the key, revisions and value').choices(['value', 'json']).default('value');

  store.command('get')
    .description('print the value of KEY')
    .argument('<key>')
    .addOption(dataDir())
    .option('--revision <n>', 'read as of this revision', positiveInt)
    .addOption(output())
    .action(async (key: string, opts: CommonOpts & { revision?: number; output: string }) => {
      await withStore(opts, false, async (s) => {
        const kv = await s.get(key, opts.revision ? { revision: opts.revision } : undefined);
        if (!kv) throw new StoreCommandError('KeyNotFound', `key "${key}" not found`);
        process.stdout.write(`${opts.output === 'json' ? JSON.stringify(kvJson(kv), null, 2) : formatValue(kv.value)}\n`);
      });
    });

  store.command('list')
    .description('print the keys and values under PREFIX, in key order')
    .argument('<prefix>')
    .addOption(dataDir())
    .option('--limit <n>', 'at most this many keys', positiveInt)
    .option('--keys-only', 'print only the keys')
    .option('--revision <n>', 'read as of this revision', positiveInt)
    .addOption(output())
    .action(async (prefix: string, opts: CommonOpts & { limit?: number; keysOnly?: boolean; revision?: number; output: string }) => {
      await withStore(opts, false, async (s) => {
        const items: KeyValue[] = [];
        let page = await s.list(prefix, { revision: opts.revision, limit: opts.limit || undefined });
        items.push(...page.items);
        // Without --limit, follow the continue tokens (all pages are read at the first page's revision).
        while (!opts.limit && page.continue) {
          page = await s.list(prefix, { continue: page.continue });
          items.push(...page.items);
        }
        if (opts.output === 'json') {
          const out = { revision: page.revision, more: Boolean(page.continue), items: items.map((kv) => (opts.keysOnly ? { key: kv.key } : kvJson(kv))) };
          process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
        } else {
          for (const kv of items) process.stdout.write(opts.keysOnly ? `${kv.key}\n` : `${kv.key}\n${formatValue(kv.value)}\n`);
          if (opts.limit && page.continue) {
            process.stderr.write(`(more keys under ${prefix}${page.remaining !== undefined ? `: ${page.remaining} remaining` : ''})\n`);
          }
        }
      });
    });

  store.command('put')
    .description('write VALUE (or stdin with "-") to KEY, creating or updating it')
    .argument('<key>')
    .argument('<value>')
    .addOption(dataDir())
    .option('--ttl <seconds>', 'delete the key after this many seconds', positiveInt)
    .action(async (key: string, value: string, opts: CommonOpts & { ttl?: number }) => {
      warnIfRegistry(key, 'writing');
      const bytes = await readValueArg(value);
      await withStore(opts, true, async (s) => {
        const current = await s.get(key);
        const write = { ttlSeconds: opts.ttl };
        const kv = current ? await s.update(key, bytes, current.modRevision, write) : await s.create(key, bytes, write);
        process.stdout.write(`OK ${current ? 'updated' : 'created'} ${key} at revision ${kv.modRevision}\n`);
      });
    });

  store.command('delete')
    .description('delete KEY')
    .argument('<key>')
    .addOption(dataDir())
    .action(async (key: string, opts: CommonOpts) => {
      warnIfRegistry(key, 'deleting');
      await withStore(opts, false, async (s) => {
        const current = await s.get(key);
        if (!current) throw new StoreCommandError('KeyNotFound', `key "${key}" not found`);
        const { revision } = await s.delete(key, current.modRevision);
        process.stdout.write(`OK deleted ${key} at revision ${revision}\n`);
      });
    });

  store.command('revision')
    .description('print the current revision and the oldest readable (compacted) revision')
    .addOption(dataDir())
    .action(async (opts: CommonOpts) => {
      await withStore(opts, false, async (s) => {
        process.stdout.write(`revision ${s.currentRevision()}\ncompacted ${s.compactRevision()}\n`);
      });
    });
}
