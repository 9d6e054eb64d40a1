export type { CommandGroup } from './commands/index.ts';
export { CliContext, type GlobalOptions } from './context.ts';
export { CliError, describeError } from './errors.ts';
export { main } from './main.ts';
export { Output } from './output/output.ts';
export { type Column, renderTable, truncate } from './output/table.ts';
export { formatBytes, relativeTime } from './output/time.ts';
