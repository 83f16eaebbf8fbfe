// `orch shim --pool-socket PATH` (hidden): the per-container shim. The runtime starts it ahead of
// time; it imports only runtime/shim (lazily here, so the CLI's other modules stay unloaded).
import { Command } from 'commander';

export function registerShim(program: Command): void {
  program.addCommand(
    new Command('shim')
      .description('per-container shim (started by the runtime)')
      .allowUnknownOption(true)
      .helpOption(false)
      .argument('[args...]')
      .action(async () => {
        const { runShim } = await import('../../runtime/shim/shim');
        runShim(process.argv.slice(process.argv.indexOf('shim') + 1));
        // the shim's sockets keep the process alive; never fall through to the CLI's exit
        await new Promise(() => undefined);
      }),
    { hidden: true },
  );
}
