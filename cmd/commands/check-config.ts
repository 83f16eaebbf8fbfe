// `orch check-config`: can this host run orch? (k3s check-config's role). Exit 1 when a required
// feature is missing. `--probe-unshare` is the hidden child half of the namespace check.
import { Command, Option } from 'commander';
import { checkHost, probeUnshareHere, type HostReport } from '../host-checks';

function render(report: HostReport): string {
  const mark = { ok: 'ok', warn: 'warn', missing: 'MISSING' } as const;
  const lines = [`orch check-config: kernel ${report.kernel}, cgroups ${report.cgroupVersion}`];
  let group = '';
  for (const c of report.checks) {
    if (c.group !== group) {
      group = c.group;
      lines.push(`${group}:`);
    }
    const tag = c.status === 'missing' && !c.required ? 'warn' : mark[c.status];
    lines.push(`  ${c.name.padEnd(24)} ${tag.padEnd(7)} ${c.detail}${c.required ? '' : ' (optional)'}`);
  }
  const failed = report.checks.filter((c) => c.required && c.status !== 'ok').length;
  lines.push(report.pass ? 'STATUS: pass' : `STATUS: ${failed} required check(s) failed`);
  return `${lines.join('\n')}\n`;
}

export function registerCheckConfig(program: Command): void {
  program
    .command('check-config')
    .description('check that this host has what orch needs (namespaces, cgroups, overlayfs, iptables, native addons)')
    .option('--json', 'print the report as JSON')
    .addOption(new Option('--probe-unshare', 'internal: run the unshare(2) probe in this process').hideHelp())
    .action(async (opts: { json?: boolean; probeUnshare?: boolean }) => {
      if (opts.probeUnshare) {
        process.stdout.write(`${JSON.stringify(await probeUnshareHere())}\n`);
        return;
      }
      const report = checkHost();
      process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : render(report));
      if (!report.pass) process.exitCode = 1;
    });
}
