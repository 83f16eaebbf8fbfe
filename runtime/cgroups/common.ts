// File helpers shared by the v1 and v2 drivers.
import { readFileSync, writeFileSync, rmdirSync, existsSync } from 'node:fs';
import { CgroupError } from './types';

export function readTrim(path: string): string {
  return readFileSync(path, 'utf8').trim();
}

export function readNumber(path: string, fallback = 0): number {
  try {
    const v = readTrim(path);
    return v === 'max' ? Infinity : Number(v);
  } catch {
    return fallback;
  }
}

/** "key value" lines (memory.stat, memory.events, cpu.stat, memory.oom_control). */
export function readKeyed(path: string): Map<string, number> {
  const out = new Map<string, number>();
  let text = '';
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return out;
  }
  for (const line of text.split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined) out.set(k, Number(v));
  }
  return out;
}

export function writeFile(path: string, value: string): void {
  try {
    writeFileSync(path, value);
  } catch (err) {
    throw new CgroupError(`cannot write ${JSON.stringify(value)} to ${path}: ${(err as Error).message}`, { cause: err });
  }
}

export function readProcs(dir: string): number[] {
  try {
    return readFileSync(`${dir}/cgroup.procs`, 'utf8').split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** rmdir a cgroup directory, SIGKILLing what is left inside, until it is gone or the deadline. */
export async function removeDir(dir: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!existsSync(dir)) return;
    try {
      rmdirSync(dir);
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (code !== 'EBUSY' || Date.now() > deadline) {
        throw new CgroupError(`cannot remove cgroup ${dir}: ${(err as Error).message}`, { cause: err });
      }
      for (const pid of readProcs(dir)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone: the next rmdir will tell
        }
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}
