// Shared by the `ds01` and `ds01d` launchers. Plain JavaScript with no dependencies, so that it
// runs on whatever Node is on PATH and can explain what is missing.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import module from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REQUIRED_MAJOR = 24;
const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const BOOTSTRAP = `cd ${REPO_ROOT} && source scripts/lib/bootstrap.sh && ds01_bootstrap`;

/**
 * Runs `entry`'s `main(argv)` (resolving to an exit code) on Node 24+, re-executing the calling
 * script with the checkout's Node 24 (.tools/node) when the running Node is older.
 */
export async function launch({ name, entry }) {
  const major = Number(process.versions.node.split('.')[0]);
  if (major < REQUIRED_MAJOR) return reexec(name);
  // Every command loads a few hundred modules, most of them TypeScript stripped at load: Node's
  // on-disk compile cache (in the OS temp folder, or NODE_COMPILE_CACHE) saves most of that work.
  module.enableCompileCache?.();
  let main;
  try {
    ({ main } = await import(entry.href));
  } catch (error) {
    if (error?.code === 'ERR_MODULE_NOT_FOUND' && /node_modules|Cannot find package/.test(error.message)) {
      fail(
        name,
        `its dependencies are not installed (${error.message.split('\n')[0]}).\n  Install them: ${BOOTSTRAP}`,
      );
    }
    throw error;
  }
  process.exitCode = await main(process.argv.slice(2));
}

function reexec(name) {
  const node = join(REPO_ROOT, '.tools', 'node', 'node_modules', '.bin', 'node');
  if (process.env.DS01_LAUNCHER_REEXEC || !existsSync(node)) {
    fail(
      name,
      `needs Node.js ${REQUIRED_MAJOR} or newer; this is Node ${process.version}` +
        (existsSync(node) ? ` and ${node} is not newer either.` : ` and ${node} is missing.`) +
        `\n  Install it: ${BOOTSTRAP}`,
    );
  }
  const child = spawn(node, [process.argv[1], ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, DS01_LAUNCHER_REEXEC: '1' },
  });
  // ds01d is stopped by signals sent to this process: hand them on, and exit as the child does.
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => {
    if (signal) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    } else process.exit(code ?? 1);
  });
}

function fail(name, message) {
  process.stderr.write(`${name}: ${message}\n`);
  process.exit(1);
}
