#!/usr/bin/env node
// The orch executable: one binary, subcommands for every role (k3s style). Subcommands live in
// cmd/commands/, one file each, declaring flags and handing off to their module.
import { Command } from 'commander';
import { GIT_VERSION, ORCH_VERSION } from '../api/version';
import { registerCommands } from './commands';

export function buildProgram(): Command {
  const program = new Command('orch')
    .description('orch: a single-binary Kubernetes distribution (apiserver, store, controllers, scheduler, agent)')
    .version(`orch version ${GIT_VERSION} (${ORCH_VERSION})`, '-v, --version', 'print the version')
    .showHelpAfterError();
  registerCommands(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  await buildProgram().parseAsync(argv);
}

if (require.main === module) {
  main(process.argv).catch((err: unknown) => {
    const msg = err instanceof Error ? err.message : String(err);
    process.stderr.write(`orch: ${msg}\n`);
    process.exit(1);
  });
}
