// Name -> factory for every controller the manager can run, with its default worker count
// (upstream's --concurrent-*-syncs defaults, scaled to a small single process).
import type { Controller, ControllerContext } from './controller';

export interface ControllerEntry {
  factory: (ctx: ControllerContext) => Controller;
  workers: number;
}

export const controllerRegistry: Record<string, ControllerEntry> = {};
