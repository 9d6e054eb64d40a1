#!/usr/bin/env node
// Launcher of the `ds01` CLI. Plain JavaScript so that any Node can run it: DS01 itself needs
// Node 24 (it runs its TypeScript directly), so an older Node re-executes this file with the
// Node 24 that scripts/lib/bootstrap.sh installs into <repo>/.tools/node.
import { launch } from './launch.js';

await launch({ name: 'ds01', entry: new URL('../src/main.ts', import.meta.url) });
