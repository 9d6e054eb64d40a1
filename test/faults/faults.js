#!/usr/bin/env node
// Launcher of the crash harness (`npm run faults`): plain JavaScript that any Node can run; it
// re-executes itself on the checkout's Node 24 when needed, as `ds01` does (packages/cli/bin/launch.js).
import { launch } from '../../packages/cli/bin/launch.js';

await launch({ name: 'faults', entry: new URL('./main.ts', import.meta.url) });
