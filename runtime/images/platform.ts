// The node's platform and how an index entry is matched to it (containerd's platforms package is
// the model: os and architecture must match; a variant, when both sides name one, must too).
import type { Platform } from './types';

const ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };

export function hostPlatform(): Platform {
  const architecture = ARCH[process.arch] ?? process.arch;
  const p: Platform = { os: 'linux', architecture };
  if (architecture === 'arm64') p.variant = 'v8';
  if (architecture === 'arm') p.variant = `v${(process.config.variables as { arm_version?: string }).arm_version ?? '7'}`;
  return p;
}

function normVariant(arch: string, variant: string | undefined): string | undefined {
  if (arch === 'arm64' && (variant === undefined || variant === '')) return 'v8';
  if (arch === 'amd64' && (variant === 'v1' || variant === '')) return undefined;
  return variant || undefined;
}

export function platformMatches(candidate: Platform | undefined, want: Platform): boolean {
  if (!candidate) return false;
  if (candidate.os !== want.os || candidate.architecture !== want.architecture) return false;
  const cv = normVariant(candidate.architecture, candidate.variant);
  const wv = normVariant(want.architecture, want.variant);
  return cv === undefined || wv === undefined || cv === wv;
}

export function formatPlatform(p: Platform | undefined): string {
  if (!p) return 'unknown';
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

/** Parses "linux/amd64[/variant]". */
export function parsePlatform(s: string): Platform {
  const [os, architecture, variant] = s.split('/');
  return { os, architecture, ...(variant ? { variant } : {}) };
}
