// A pool of warm shims: shim processes started ahead of time, each waiting on its own socket under
// <state>/pool/ for one container spec. Starting a Node process costs ~80 ms (tsx far more), so a
// container start only takes a ready shim and a replacement is spawned in the background.
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readdirSync, unlinkSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { ShimClient } from '../shim/client';

export interface WarmShim {
  socketPath: string;
  client: ShimClient;
}

export class ShimPool {
  private ready: WarmShim[] = [];
  private starting = 0;
  private closed = false;
  private waiters: Array<(s: WarmShim) => void> = [];
  private failures = 0;
  private retiring: Array<Promise<void>> = [];

  /** `extraArgs` follow "--pool-socket PATH" (the runtime passes "--init <orch-init path>"). */
  constructor(private readonly dir: string, private readonly command: string[], private readonly size: number,
    private readonly extraArgs: string[] = [], private readonly startTimeoutMs = 30_000) {
    mkdirSync(dir, { recursive: true });
  }

  /** Retires shims a previous runtime instance left waiting, then fills the pool. */
  async init(): Promise<void> {
    for (const f of readdirSync(this.dir)) {
      if (!f.endsWith('.sock')) continue;
      const path = `${this.dir}/${f}`;
      try {
        const c = await ShimClient.connect(path, 500);
        await c.request('retire').catch(() => undefined);
        c.close();
      } catch {
        try {
          unlinkSync(path);
        } catch {
          // raced with the shim's own cleanup
        }
      }
    }
    this.fill();
  }

  private fill(): void {
    while (!this.closed && this.ready.length + this.starting < Math.max(this.size, this.waiters.length)) {
      this.starting++;
      this.spawnOne().then(
        (s) => {
          this.starting--;
          this.failures = 0;
          const w = this.waiters.shift();
          if (w) w(s);
          else if (this.closed) this.retiring.push(this.retire(s));
          else this.ready.push(s);
        },
        () => {
          this.starting--;
          // back off on repeated failures instead of spinning
          if (++this.failures < 5) setTimeout(() => this.fill(), 100 * this.failures).unref();
        },
      );
    }
  }

  private async spawnOne(): Promise<WarmShim> {
    const socketPath = `${this.dir}/${randomBytes(6).toString('hex')}.sock`;
    // the shim's own stderr (Node's fatal errors) goes next to its socket, for post-mortems
    const errFd = openSync(`${socketPath}.log`, 'a');
    const child = spawn(this.command[0], [...this.command.slice(1), '--pool-socket', socketPath, ...this.extraArgs], { detached: true, stdio: ['ignore', 'ignore', errFd] });
    closeSync(errFd);
    child.unref();
    const deadline = Date.now() + this.startTimeoutMs;
    let exited = false;
    child.once('exit', () => (exited = true));
    for (;;) {
      try {
        const client = await ShimClient.connect(socketPath, 1000);
        client.unref();
        return { socketPath, client };
      } catch (err) {
        if (exited || Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 10));
      }
    }
  }

  /** A ready shim (immediately when the pool has one, else as soon as one has started). */
  take(): Promise<WarmShim> {
    const s = this.ready.shift();
    const p = s ? Promise.resolve(s) : new Promise<WarmShim>((resolve) => this.waiters.push(resolve));
    this.fill();
    return p;
  }

  get readyCount(): number {
    return this.ready.length;
  }

  /** Waits until `size` shims are ready (for benchmarks and tests that measure warm starts). */
  async waitFull(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.ready.length < this.size) {
      if (Date.now() > deadline) throw new Error(`shim pool: ${this.ready.length}/${this.size} ready after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  private async retire(s: WarmShim): Promise<void> {
    await s.client.request('retire').catch(() => undefined);
    s.client.close();
  }

  /** Retires every idle shim; shims that hold containers are not touched. */
  async close(): Promise<void> {
    this.closed = true;
    const idle = this.ready.splice(0);
    await Promise.all(idle.map((s) => this.retire(s)));
    const deadline = Date.now() + 30_000;
    while (this.starting > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    for (const s of this.ready.splice(0)) await this.retire(s);
    await Promise.all(this.retiring);
  }
}
