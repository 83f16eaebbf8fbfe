import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../cmd/orch';
import { GIT_VERSION } from '../../api/version';

describe('orch CLI', () => {
  it('reports a semver Kubernetes 1.32 version', () => {
    expect(GIT_VERSION).toMatch(/^v1\.32\.\d+\+orch\.[0-9A-Za-z.-]+$/);
  });

  it('prints the version with --version', () => {
    const program = buildProgram().exitOverride();
    let out = '';
    program.configureOutput({ writeOut: (s) => { out += s; } });
    expect(() => program.parse(['node', 'orch', '--version'])).toThrow(/orch version/);
    expect(out).toContain(GIT_VERSION);
  });
});
