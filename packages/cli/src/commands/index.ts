import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import * as admin from './admin.ts';
import * as audit from './audit.ts';
import * as config from './config.ts';
import * as container from './container.ts';
import * as containers from './containers.ts';
import * as events from './events.ts';
import * as gpu from './gpu.ts';
import * as image from './image.ts';
import * as importCommands from './import.ts';
import * as lifecycle from './lifecycle.ts';
import * as project from './project.ts';
import * as projections from './projections.ts';
import * as setup from './setup.ts';
import * as simulate from './simulate.ts';
import * as store from './store.ts';
import * as usage from './usage.ts';
import * as user from './user.ts';

/** A group of commands: `register` adds them to the program (e.g. `ds01 events ...`). */
export interface CommandGroup {
  register(program: Command, context: CliContext): void;
}

/** Every command group of `ds01`, in the order `ds01 --help` lists them. Add yours: one line. */
export const commandGroups: readonly CommandGroup[] = [
  container,
  image,
  project,
  containers,
  events,
  gpu,
  user,
  lifecycle,
  usage,
  audit,
  importCommands,
  config,
  store,
  projections,
  setup,
  simulate,
  admin,
];
