import { describe, expect, it } from 'vitest';
import { applyPodPresets } from '../../server/admission/podpreset';

const preset = (name: string, spec: any) => ({ apiVersion: 'settings.k8s.io/v1alpha1', kind: 'PodPreset', metadata: { name, namespace: 'default', resourceVersion: '42' }, spec });
const pod = (labels: Record<string, string>, extra: any = {}) => ({
  metadata: { name: 'website', namespace: 'default', labels, annotations: extra.annotations },
  spec: { containers: [{ name: 'web', image: 'nginx', env: extra.env, volumeMounts: extra.volumeMounts }] },
});

describe('PodPreset admission', () => {
  const allowDb = preset('allow-database', {
    selector: { matchLabels: { role: 'frontend' } },
    env: [{ name: 'DB_PORT', value: '6379' }],
    envFrom: [{ configMapRef: { name: 'etcd-env-config' } }],
    volumeMounts: [{ mountPath: '/cache', name: 'cache-volume' }],
    volumes: [{ name: 'cache-volume', emptyDir: {} }],
  });

  it('injects env, envFrom, volumes and volumeMounts into matching pods and annotates them', () => {
    const input = pod({ role: 'frontend' });
    const r = applyPodPresets(input, [allowDb]);
    expect(r.applied).toEqual(['allow-database']);
    expect(r.pod.metadata.annotations).toEqual({ 'podpreset.admission.kubernetes.io/podpreset-allow-database': '42' });
    expect(r.pod.spec.containers[0]).toMatchObject({
      env: [{ name: 'DB_PORT', value: '6379' }],
      envFrom: [{ configMapRef: { name: 'etcd-env-config' } }],
      volumeMounts: [{ mountPath: '/cache', name: 'cache-volume' }],
    });
    expect(r.pod.spec.volumes).toEqual([{ name: 'cache-volume', emptyDir: {} }]);
    expect(input.spec.containers[0].env).toBeUndefined();
  });

  it('leaves non-matching, excluded and conflicting pods untouched', () => {
    expect(applyPodPresets(pod({ role: 'backend' }), [allowDb]).applied).toEqual([]);
    expect(applyPodPresets(pod({ role: 'frontend' }, { annotations: { 'podpreset.admission.kubernetes.io/exclude': 'true' } }), [allowDb]).applied).toEqual([]);
    const conflicting = pod({ role: 'frontend' }, { env: [{ name: 'DB_PORT', value: '9999' }] });
    const r = applyPodPresets(conflicting, [allowDb]);
    expect(r.applied).toEqual([]);
    expect(r.conflict).toContain('merging env for DB_PORT has a conflict');
    expect(r.pod).toBe(conflicting);
  });

  it('applies several presets and skips identical duplicates', () => {
    const other = preset('proxy', { selector: { matchLabels: { role: 'frontend' } }, env: [{ name: 'DB_PORT', value: '6379' }, { name: 'HTTP_PROXY', value: 'http://proxy' }] });
    const r = applyPodPresets(pod({ role: 'frontend' }), [other, allowDb]);
    expect(r.applied).toEqual(['allow-database', 'proxy']);
    expect(r.pod.spec.containers[0].env.map((e: any) => e.name)).toEqual(['DB_PORT', 'HTTP_PROXY']);
  });
});
