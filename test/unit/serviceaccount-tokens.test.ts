// ServiceAccount token signing and verification (server/serviceaccount) against a stateful
// in-memory object table: expiry and not-before with a movable clock, foreign keys and issuers,
// audiences, bound-object UIDs and the 60 s deletion leeway, the kubelet's extended expiry, keys.
import { describe, expect, it } from 'vitest';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { ServiceAccountTokens, TokenError } from '../../server/serviceaccount/tokens';
import { ensureServiceAccountKey, keyFromPem, serviceAccountKeyPath } from '../../server/serviceaccount/keys';

const ecPem = () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;

function setup(now = { t: Date.UTC(2026, 0, 1) }) {
  const objects = new Map<string, any>([
    ['serviceaccounts/ns/sa', { metadata: { name: 'sa', uid: 'sa-uid' } }],
    ['pods/ns/p', { metadata: { name: 'p', uid: 'pod-uid' } }],
  ]);
  const tokens = new ServiceAccountTokens({
    key: keyFromPem(ecPem()),
    lookup: async (r, ns, name) => objects.get(`${r}/${ns ?? ''}/${name}`),
    now: () => now.t,
  });
  return { tokens, objects, now };
}

const base = { namespace: 'ns', serviceAccount: { name: 'sa', uid: 'sa-uid' }, audiences: ['https://kubernetes.default.svc.cluster.local'], expirationSeconds: 3600 };

describe('ServiceAccount tokens', () => {
  it('accepts a fresh token and rejects it after exp or before nbf', async () => {
    const { tokens, now } = setup();
    const { token } = await tokens.sign(base);
    const ok = await tokens.authenticate(token);
    expect(ok?.user).toMatchObject({ username: 'system:serviceaccount:ns:sa', uid: 'sa-uid', groups: ['system:serviceaccounts', 'system:serviceaccounts:ns'] });
    now.t += 3601_000;
    await expect(tokens.authenticate(token)).rejects.toBeInstanceOf(TokenError);
    now.t -= 2 * 3601_000;
    await expect(tokens.authenticate(token)).rejects.toThrow(/not valid/);
  });

  it('ignores other issuers and rejects another key\'s signature', async () => {
    const a = setup();
    const b = setup();
    const { token } = await a.tokens.sign(base);
    await expect(b.tokens.authenticate(token)).rejects.toThrow(/signature/);
    expect(await a.tokens.authenticate('abc.def')).toBeUndefined();
    expect(await a.tokens.authenticate('static-token-value')).toBeUndefined();
  });

  it('checks audiences', async () => {
    const { tokens } = setup();
    const { token } = await tokens.sign({ ...base, audiences: ['vault', 'other'] });
    await expect(tokens.authenticate(token)).rejects.toThrow(/audience/);
    expect((await tokens.authenticate(token, ['x', 'vault']))?.audiences).toEqual(['vault']);
  });

  it('follows the ServiceAccount and bound pod: UID changes and deletions', async () => {
    const { tokens, objects, now } = setup();
    const { token } = await tokens.sign({ ...base, pod: { name: 'p', uid: 'pod-uid' } });
    expect((await tokens.authenticate(token))?.user.extra?.['authentication.kubernetes.io/pod-uid']).toEqual(['pod-uid']);
    // A pod being deleted keeps its token for the grace period plus 60 s.
    objects.set('pods/ns/p', { metadata: { name: 'p', uid: 'pod-uid', deletionTimestamp: new Date(now.t - 30_000).toISOString() } });
    expect(await tokens.authenticate(token)).toBeDefined();
    objects.set('pods/ns/p', { metadata: { name: 'p', uid: 'pod-uid', deletionTimestamp: new Date(now.t - 61_000).toISOString() } });
    await expect(tokens.authenticate(token)).rejects.toThrow(/has been deleted/);
    objects.set('pods/ns/p', { metadata: { name: 'p', uid: 'other-uid' } });
    await expect(tokens.authenticate(token)).rejects.toThrow(/recreated/);
    objects.delete('pods/ns/p');
    await expect(tokens.authenticate(token)).rejects.toThrow(/no longer exists/);
    const plain = (await tokens.sign(base)).token;
    objects.set('serviceaccounts/ns/sa', { metadata: { name: 'sa', uid: 'new' } });
    await expect(tokens.authenticate(plain)).rejects.toThrow(/UID mismatch/);
  });

  it('extends the kubelet\'s 3607 s pod tokens to a year with warnafter', async () => {
    const { tokens } = setup();
    const t = await tokens.sign({ ...base, expirationSeconds: 3607, pod: { name: 'p', uid: 'pod-uid' } });
    const c: any = decodeJwt(t.token);
    expect(c.exp - c.iat).toBe(365 * 24 * 3600);
    expect(c['kubernetes.io'].warnafter).toBe(c.iat + 3607);
  });

  it('creates the key once with mode 0600, reuses it, and accepts RSA keys', () => {
    const dir = mkdtempSync(join(tmpdir(), 'orch-test-sakey-'));
    try {
      const k1 = ensureServiceAccountKey(dir);
      expect(k1.alg).toBe('ES256');
      expect(statSync(serviceAccountKeyPath(dir)).mode & 0o777).toBe(0o600);
      const pem = readFileSync(serviceAccountKeyPath(dir), 'utf8');
      const k2 = ensureServiceAccountKey(dir);
      expect(k2.kid).toBe(k1.kid);
      expect(readFileSync(serviceAccountKeyPath(dir), 'utf8')).toBe(pem);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const rsa = keyFromPem(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
    expect(rsa.alg).toBe('RS256');
    expect(() => keyFromPem('nonsense')).toThrow(/not a private key/);
  });
});
