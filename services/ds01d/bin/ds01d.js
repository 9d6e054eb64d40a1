#!/usr/bin/env node
// Launcher of the DS01 daemon: plain JavaScript that any Node can run. It re-executes itself with
// the checkout's Node 24 when needed (see packages/cli/bin/launch.js, shared with `ds01`; it is
// imported by path so that it works before dependencies are installed).
import { launch } from '../../../packages/cli/bin/launch.js';

await launch({ name: 'ds01d', entry: new URL('../src/main.ts', import.meta.url) });
