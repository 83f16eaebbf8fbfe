// Every subcommand registers itself here, one line each, so adding one touches one line.
import type { Command } from 'commander';
import { registerCheckConfig } from './check-config';
import { registerStore } from './store';
import { registerServer } from './server';
import { registerImages } from './images';
import { registerCtr } from './ctr';
import { registerShim } from './shim';

export function registerCommands(program: Command): void {
  registerCheckConfig(program);
  registerStore(program);
  registerServer(program);
  registerImages(program);
  registerCtr(program);
  registerShim(program);
}
