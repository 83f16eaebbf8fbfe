// Every subcommand registers itself here, one line each, so adding one touches one line.
import type { Command } from 'commander';

export function registerCommands(_program: Command): void {
  // (subcommands are added here as their modules land)
}
