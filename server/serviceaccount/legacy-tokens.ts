// Legacy ServiceAccount token Secrets (upstream's tokens controller): a Secret of type
// `kubernetes.io/service-account-token` annotated `kubernetes.io/service-account.name: <sa>` gets
// `data.token` (a non-expiring legacy JWT), `data["ca.crt"]` and `data.namespace`, and the
// ServiceAccount's UID as an annotation; a Secret whose ServiceAccount is gone (or was recreated)
// is deleted, as are the token Secrets of a deleted ServiceAccount. Level-triggered: each Secret
// key is reconciled from the current objects, whatever event woke it.
import type { Registry } from '../apiserver/registry';
import { notFound } from '../apiserver/errors';
import type { WriteContext } from '../apiserver/types';
import type { ServiceAccountTokens } from './tokens';

export const SERVICE_ACCOUNT_TOKEN_TYPE = 'kubernetes.io/service-account-token';
export const SA_NAME_ANNOTATION = 'kubernetes.io/service-account.name';
export const SA_UID_ANNOTATION = 'kubernetes.io/service-account.uid';

function context(): WriteContext {
  return { user: { username: 'system:serviceaccount:kube-system:tokens-controller', groups: ['system:masters', 'system:authenticated'] }, fieldManager: 'kube-controller-manager', fieldValidation: 'Ignore', warnings: [] };
}

const b64 = (s: string): string => Buffer.from(s).toString('base64');

export class LegacyTokenController {
  private queue = new Set<string>();
  private running = false;
  private stopped = false;
  private watches: Array<{ close(): void }> = [];

  constructor(private readonly registry: Registry, private readonly tokens: ServiceAccountTokens, private readonly caPem: string, private readonly log: (m: string) => void = () => undefined) {}

  async start(): Promise<void> {
    const secrets = this.registry.resource('', 'secrets');
    const sas = this.registry.resource('', 'serviceaccounts');
    const follow = async (res: typeof secrets, onObject: (type: string, obj: any) => void): Promise<void> => {
      const list = await this.registry.list(res, undefined);
      for (const o of list.items) onObject('ADDED', o);
      const w = this.registry.watch(res, undefined, Number(list.resourceVersion));
      this.watches.push(w);
      void (async () => {
        try {
          for await (const ev of w.events()) onObject(ev.type, ev.type === 'DELETED' ? (ev.oldObject ?? ev.object) : ev.object);
        } catch (err) {
          this.log(`tokens controller: ${res.plural} watch ended: ${(err as Error).message}`);
        }
        if (!this.stopped) setTimeout(() => { if (!this.stopped) follow(res, onObject).catch((e) => this.log(`tokens controller: ${(e as Error).message}`)); }, 100);
      })();
    };
    await follow(secrets, (type, s) => {
      if (type !== 'DELETED' && s.type === SERVICE_ACCOUNT_TOKEN_TYPE) this.enqueue(`${s.metadata.namespace}/${s.metadata.name}`);
    });
    await follow(sas, (type, sa) => {
      if (type === 'DELETED') void this.secretsOf(sa.metadata.namespace, sa.metadata.name).then((keys) => keys.forEach((k) => this.enqueue(k)));
    });
  }

  stop(): void {
    this.stopped = true;
    for (const w of this.watches) w.close();
  }

  private async secretsOf(namespace: string, saName: string): Promise<string[]> {
    const list = await this.registry.list(this.registry.resource('', 'secrets'), namespace);
    return list.items.filter((s) => s.type === SERVICE_ACCOUNT_TOKEN_TYPE && s.metadata.annotations?.[SA_NAME_ANNOTATION] === saName).map((s) => `${namespace}/${s.metadata.name}`);
  }

  private enqueue(key: string): void {
    this.queue.add(key);
    if (this.running) return;
    this.running = true;
    void (async () => {
      while (this.queue.size > 0 && !this.stopped) {
        const next = this.queue.values().next().value as string;
        this.queue.delete(next);
        const [ns, name] = next.split('/') as [string, string];
        try { await this.sync(ns, name); } catch (err) { this.log(`tokens controller: ${next}: ${(err as Error).message}`); }
      }
      this.running = false;
    })();
  }

  /** Brings one token Secret to its desired state (or deletes it when its ServiceAccount is gone). */
  async sync(namespace: string, name: string): Promise<void> {
    const secrets = this.registry.resource('', 'secrets');
    const secret = (await this.registry.getRaw(secrets, namespace, name))?.obj;
    if (!secret || secret.type !== SERVICE_ACCOUNT_TOKEN_TYPE || secret.metadata.deletionTimestamp) return;
    const ann = secret.metadata.annotations ?? {};
    const saName = ann[SA_NAME_ANNOTATION];
    const sa = saName ? (await this.registry.getRaw(this.registry.resource('', 'serviceaccounts'), namespace, saName))?.obj : undefined;
    if (!sa || (ann[SA_UID_ANNOTATION] && ann[SA_UID_ANNOTATION] !== sa.metadata.uid)) {
      await this.registry.delete(secrets, namespace, name, {}, context()).catch((err) => { if ((err as { httpStatus?: number }).httpStatus !== 404) throw err; });
      return;
    }
    const data = secret.data ?? {};
    if (data.token && data['ca.crt'] === b64(this.caPem) && data.namespace === b64(namespace) && ann[SA_UID_ANNOTATION] === sa.metadata.uid) return;
    const token = data.token ? Buffer.from(data.token, 'base64').toString() : await this.tokens.signLegacy(namespace, { name: sa.metadata.name, uid: sa.metadata.uid }, name);
    await this.registry.guaranteedUpdate(secrets, namespace, name, async (cur) => {
      if (!cur) throw notFound('', 'secrets', name);
      if (cur.type !== SERVICE_ACCOUNT_TOKEN_TYPE) return cur;
      cur.metadata.annotations = { ...(cur.metadata.annotations ?? {}), [SA_UID_ANNOTATION]: sa.metadata.uid };
      cur.data = { ...(cur.data ?? {}), token: cur.data?.token ?? b64(token), 'ca.crt': b64(this.caPem), namespace: b64(namespace) };
      return cur;
    }, context()).catch((err) => { if ((err as { httpStatus?: number }).httpStatus !== 404) throw err; });
  }
}
