// The per-request cost of authentication and authorization (server/auth, server/serviceaccount):
// RBAC decisions over the bootstrap policy plus 1,000 RoleBindings in 100 namespaces, orch's
// subject-indexed evaluator against a peer that scans every binding the way upstream's
// rule resolver visits them; ServiceAccount token authentication with the 10 s verified-claims
// cache, without it, and Node's raw ES256 signature check as the floor.
import { createPublicKey, generateKeyPairSync, verify as cryptoVerify } from 'node:crypto';
import { RbacAuthorizer } from '../../server/auth/rbac';
import { ruleAllows } from '../../server/auth/rules';
import { bootstrapClusterRoleBindings, bootstrapClusterRoles } from '../../server/auth/bootstrap';
import { aggregatedRules } from '../../server/auth/aggregation';
import { ServiceAccountTokens } from '../../server/serviceaccount/tokens';
import { keyFromPem } from '../../server/serviceaccount/keys';

function perCallUs(n: number, fn: (i: number) => void): number {
  const t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn(i);
  return Number(process.hrtime.bigint() - t) / n / 1000;
}

async function perCallUsAsync(n: number, fn: (i: number) => Promise<unknown>): Promise<number> {
  const t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await fn(i);
  return Number(process.hrtime.bigint() - t) / n / 1000;
}

async function main(): Promise<void> {
  const roles = bootstrapClusterRoles();
  const bindings: any[] = bootstrapClusterRoleBindings();
  const a = new RbacAuthorizer();
  for (const r of roles) a.upsert('ClusterRole', r);
  for (let i = 0; i < 3; i++) for (const r of a.allClusterRoles()) if (r.aggregationRule) a.upsert('ClusterRole', { ...r, rules: aggregatedRules(r, a.allClusterRoles()) });
  const roleBindings: any[] = [];
  for (let i = 0; i < 1000; i++) roleBindings.push({ metadata: { name: `rb${i}`, namespace: `ns${i % 100}` }, roleRef: { kind: 'ClusterRole', name: 'view' }, subjects: [{ kind: 'User', name: `user${i}` }] });
  for (const b of bindings) a.upsert('ClusterRoleBinding', b);
  for (const b of roleBindings) a.upsert('RoleBinding', b);

  // The peer: every ClusterRoleBinding, then every RoleBinding of the namespace, subjects compared one by one.
  const rolesByName = new Map(a.allClusterRoles().map((r) => [r.metadata.name, r]));
  const scan = (user: { username: string; groups: string[] }, attrs: any): boolean => {
    const applies = (b: any): boolean => (b.subjects ?? []).some((s: any) => (s.kind === 'User' && s.name === user.username) || (s.kind === 'Group' && user.groups.includes(s.name)));
    for (const b of bindings) if (applies(b) && (rolesByName.get(b.roleRef.name)?.rules ?? []).some((r: any) => ruleAllows(attrs, r))) return true;
    for (const b of roleBindings) if (b.metadata.namespace === attrs.namespace && applies(b) && (rolesByName.get(b.roleRef.name)?.rules ?? []).some((r: any) => ruleAllows(attrs, r))) return true;
    return false;
  };

  const N = 200_000;
  const user = { username: 'user5', groups: ['system:authenticated'] };
  const allow = { verb: 'list', group: '', resource: 'pods', namespace: 'ns5' };
  const deny = { verb: 'delete', group: 'apps', resource: 'deployments', namespace: 'ns5' };
  const masters = { username: 'admin', groups: ['system:masters', 'system:authenticated'] };
  if (!a.authorize(user, allow).allowed || a.authorize(user, deny).allowed || !scan(user, allow) || scan(user, deny)) throw new Error('evaluators disagree');
  const orchAllow = perCallUs(N, () => a.authorize(user, allow));
  const orchDeny = perCallUs(N, () => a.authorize(user, deny));
  const orchMasters = perCallUs(N, () => a.authorize(masters, deny));
  const scanAllow = perCallUs(N / 10, () => scan(user, allow));
  const scanDeny = perCallUs(N / 10, () => scan(user, deny));
  console.log('RBAC decision, 1,000 RoleBindings in 100 namespaces + bootstrap policy (us per call):');
  console.log(`  orch (subject index)   allowed ${orchAllow.toFixed(2)}  denied ${orchDeny.toFixed(2)}  system:masters ${orchMasters.toFixed(3)}`);
  console.log(`  peer (scan bindings)   allowed ${scanAllow.toFixed(2)}  denied ${scanDeny.toFixed(2)}`);

  const pem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  const key = keyFromPem(pem);
  const objects = new Map<string, any>([['serviceaccounts/ns/sa', { metadata: { uid: 'u' } }], ['pods/ns/p', { metadata: { uid: 'pu' } }]]);
  const lookup = async (r: string, ns: string | undefined, n: string): Promise<any> => objects.get(`${r}/${ns ?? ''}/${n}`);
  const tokens = new ServiceAccountTokens({ key, lookup });
  const { token } = await tokens.sign({ namespace: 'ns', serviceAccount: { name: 'sa', uid: 'u' }, audiences: [tokens.issuer], expirationSeconds: 3600, pod: { name: 'p', uid: 'pu' } });
  const M = 5000;
  const cached = await perCallUsAsync(M, () => tokens.authenticate(token));
  // Uncached: a fresh verifier per call has an empty cache (construction is a few object allocations).
  const uncached = await perCallUsAsync(M / 5, () => new ServiceAccountTokens({ key, lookup }).authenticate(token));
  const [h, p, s] = token.split('.');
  const sig = Buffer.from(s!, 'base64url');
  const pub = createPublicKey(key.privateKey);
  const raw = perCallUs(M, () => cryptoVerify('sha256', Buffer.from(`${h}.${p}`), { key: pub, dsaEncoding: 'ieee-p1363' }, sig));
  console.log('ServiceAccount token authentication, pod-bound ES256 token, object lookups in memory (us per call):');
  console.log(`  orch cached ${cached.toFixed(1)}  orch uncached (jose) ${uncached.toFixed(1)}  peer: node:crypto ES256 verify alone ${raw.toFixed(1)}`);
  console.log(`auth: rbac_allow_us=${orchAllow.toFixed(2)} rbac_deny_us=${orchDeny.toFixed(2)} rbac_scan_allow_us=${scanAllow.toFixed(2)} rbac_scan_deny_us=${scanDeny.toFixed(2)} sa_token_cached_us=${cached.toFixed(1)} sa_token_uncached_us=${uncached.toFixed(1)} es256_verify_us=${raw.toFixed(1)}`);
}

main().catch((err) => { console.error(err); process.exit(1); });
