import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A clone of a checkout's HEAD in a temp folder, as a new user gets it, with the checkout's installs. */
export interface FreshClone {
  dir: string;
  /** The commit it holds (the checkout's HEAD: uncommitted changes are not in it). */
  commit: string;
  remove(): void;
}

export class FreshCloneError extends Error {
  override readonly name = 'FreshCloneError';
}

/**
 * `git clone` of `root`'s HEAD into a temp folder, then the checkout's dependencies lent to it so that
 * nothing is downloaded: .tools (Node 24) and every package of node_modules linked, except what must be
 * the clone's own: the workspace links (@ds01/*, relative: they point into the clone's packages), the
 * bin links (relative, through those) and vitest's caches.
 */
export function freshClone(root: string): FreshClone {
  const commit = execFileSync('git', ['-C', root, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
  const dir = mkdtempSync(join(tmpdir(), 'ds01-clone-'));
  const remove = () => rmSync(dir, { recursive: true, force: true });
  try {
    execFileSync('git', ['clone', '--quiet', '--no-checkout', root, dir], { stdio: 'pipe' });
    execFileSync('git', ['-C', dir, 'checkout', '--quiet', '--detach', commit], { stdio: 'pipe' });
    lendInstalls(root, dir);
  } catch (error) {
    remove();
    throw error;
  }
  return { dir, commit, remove };
}

function lendInstalls(root: string, dir: string): void {
  const modules = join(root, 'node_modules');
  if (!existsSync(join(modules, '.ds01-lock-hash'))) {
    throw new FreshCloneError(
      `${modules} has no .ds01-lock-hash: install the dependencies with scripts/test.sh (or source ` +
        'scripts/lib/bootstrap.sh && ds01_bootstrap) first, so that a clone can borrow them',
    );
  }
  if (existsSync(join(root, '.tools'))) symlinkSync(join(root, '.tools'), join(dir, '.tools'));
  const target = join(dir, 'node_modules');
  mkdirSync(target);
  for (const entry of readdirSync(modules)) {
    if (entry.startsWith('.vite')) continue;
    if (entry === '@ds01' || entry === '.bin') {
      cpSync(join(modules, entry), join(target, entry), { recursive: true, verbatimSymlinks: true });
    } else {
      symlinkSync(join(modules, entry), join(target, entry));
    }
  }
}
