// `orch ctr ps|inspect|exec|logs|rm`: look at and poke the node's containers directly (like
// `k3s ctr`/`crictl`), from the state under <data-dir>/agent/containers. Works while the agent
// runs: it talks to the same shims and leaves the agent's warm shims alone.
import { createReadStream, existsSync, statSync } from 'node:fs';
import type { Command } from 'commander';
import type { ContainerRuntime, ContainerStatus } from '../../runtime';
import { DEFAULT_DATA_DIR } from '../../runtime/paths';

interface CommonOpts { dataDir: string }

async function withRuntime<T>(opts: CommonOpts, fn: (rt: ContainerRuntime) => Promise<T>): Promise<T> {
  const { ContainerRuntime } = await import('../../runtime');
  const rt = await ContainerRuntime.open({ dataDir: opts.dataDir, manageShimPool: false, warmShims: 0 });
  try {
    return await fn(rt);
  } finally {
    await rt.close();
  }
}

/** A container by id, unique id prefix, or name. */
function find(rt: ContainerRuntime, ref: string): ContainerStatus {
  const all = rt.listContainers();
  const hits = all.filter((c) => c.id === ref || c.name === ref || (ref.length >= 3 && c.id.startsWith(ref)));
  if (hits.length === 1) return hits[0];
  throw new Error(hits.length === 0 ? `no container matches ${JSON.stringify(ref)}` : `${JSON.stringify(ref)} matches ${hits.length} containers; give more of the id`);
}

function ago(iso: string | undefined): string {
  if (!iso) return '';
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (s < 120) return `${s}s ago`;
  if (s < 7200) return `${Math.round(s / 60)}m ago`;
  return `${Math.round(s / 3600)}h ago`;
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c] + 3))).join('')).join('\n');
}

const CRI_LINE = /^(\S+) (stdout|stderr) ([PF]) (.*)$/;

/** Prints CRI log lines' content to stdout/stderr; returns the bytes consumed (whole lines only). */
function printLog(text: string): number {
  let used = 0;
  for (;;) {
    const nl = text.indexOf('\n', used);
    if (nl < 0) return used;
    const m = CRI_LINE.exec(text.slice(used, nl));
    used = nl + 1;
    if (!m) continue;
    (m[2] === 'stderr' ? process.stderr : process.stdout).write(m[3] === 'F' ? `${m[4]}\n` : m[4]);
  }
}

export function registerCtr(program: Command): void {
  const ctr = program.command('ctr').description('inspect and debug the containers of this node (like crictl)');
  const common = (c: Command) => c.option('--data-dir <dir>', 'orch data directory', DEFAULT_DATA_DIR);

  common(ctr.command('ps').description('list containers').option('-a, --all', 'include exited containers'))
    .action(async (opts: CommonOpts & { all?: boolean }) => withRuntime(opts, async (rt) => {
      const rows = [['CONTAINER', 'NAME', 'STATE', 'PID', 'CREATED', 'SANDBOX', 'IMAGE']];
      for (const c of rt.listContainers().filter((x) => opts.all || x.state !== 'exited').sort((a, b) => a.createdAt.localeCompare(b.createdAt))) {
        const state = c.state === 'exited' ? `exited(${c.exitCode}${c.reason && c.reason !== 'Completed' && c.reason !== 'Error' ? `, ${c.reason}` : ''})` : c.state;
        rows.push([c.id.slice(0, 13), c.name, state, c.state === 'running' ? String(c.pid ?? '') : '', ago(c.createdAt), c.sandboxId.slice(0, 13), c.image]);
      }
      process.stdout.write(table(rows) + '\n');
    }));

  common(ctr.command('inspect').description('show a container\'s status (host PID, shim PID, exit code, stats)').argument('<container>'))
    .action(async (ref: string, opts: CommonOpts) => withRuntime(opts, async (rt) => {
      const c = find(rt, ref);
      const out: Record<string, unknown> = { ...c, sandbox: rt.podSandboxStatus(c.sandboxId) };
      if (c.state === 'running') out.stats = rt.containerStats(c.id);
      process.stdout.write(JSON.stringify(out, null, 2) + '\n');
    }));

  common(ctr.command('exec').description('run a command in a running container')
    .option('-t, --tty', 'allocate a terminal').option('-i, --interactive', 'pass stdin')
    .argument('<container>').argument('<command...>'))
    .action(async (ref: string, command: string[], opts: CommonOpts & { tty?: boolean; interactive?: boolean }) => {
      const code = await withRuntime(opts, async (rt) => {
        const c = find(rt, ref);
        const tty = Boolean(opts.tty && process.stdin.isTTY);
        const s = await rt.exec(c.id, { args: command, tty, stdin: opts.interactive, rows: process.stdout.rows, cols: process.stdout.columns });
        s.on('stdout', (d: Buffer) => process.stdout.write(d));
        s.on('stderr', (d: Buffer) => process.stderr.write(d));
        const onResize = () => s.resize(process.stdout.rows, process.stdout.columns);
        if (tty) {
          process.stdin.setRawMode(true);
          process.stdout.on('resize', onResize);
        }
        if (opts.interactive) {
          process.stdin.on('data', (d: Buffer) => s.write(d));
          process.stdin.on('end', () => s.closeStdin());
        }
        try {
          return await s.exit;
        } finally {
          if (tty) process.stdin.setRawMode(false);
          process.stdout.off('resize', onResize);
          process.stdin.pause();
        }
      });
      process.exitCode = code ?? 1;
    });

  common(ctr.command('logs').description('print a container\'s log').option('-f, --follow', 'keep printing new lines').argument('<container>'))
    .action(async (ref: string, opts: CommonOpts & { follow?: boolean }) => withRuntime(opts, async (rt) => {
      const c = find(rt, ref);
      let offset = 0;
      let pending = '';
      const readMore = async () => {
        if (!existsSync(c.logPath)) return;
        const size = statSync(c.logPath).size;
        if (size < offset) offset = 0; // rotated
        if (size === offset) return;
        const chunks: Buffer[] = [];
        for await (const chunk of createReadStream(c.logPath, { start: offset, end: size - 1 })) chunks.push(chunk as Buffer);
        offset = size;
        pending += Buffer.concat(chunks).toString();
        pending = pending.slice(printLog(pending));
      };
      await readMore();
      while (opts.follow && rt.containerStatus(c.id).state === 'running') {
        await new Promise((r) => setTimeout(r, 250));
        await readMore();
      }
      if (opts.follow) await readMore();
    }));

  common(ctr.command('rm').description('remove containers').option('-f, --force', 'stop running containers first (no grace period)').argument('<container...>'))
    .action(async (refs: string[], opts: CommonOpts & { force?: boolean }) => withRuntime(opts, async (rt) => {
      for (const ref of refs) {
        const c = find(rt, ref);
        if (c.state === 'running' && !opts.force) throw new Error(`container ${c.id.slice(0, 13)} is running; stop it first or use --force`);
        await rt.removeContainer(c.id);
        process.stdout.write(`${c.id}\n`);
      }
    }));
}
