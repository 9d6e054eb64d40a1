import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Runs ds01-infra's own limits parser (scripts/docker/get_resource_limits.py at the commit DS01
 * matches) on a configuration folder, for the parity tests. Its code is not part of DS01: the two files
 * it needs are kept unchanged under test/fixtures/ds01-infra/parser (MIT, see SOURCES.md there) and laid
 * out at test time in a temporary folder shaped as a ds01-infra checkout, so the script finds the folder
 * under test as its config/runtime/ exactly as on a lab's host.
 */

/** ds01-infra's commit whose behaviour DS01 reproduces (formats.md). */
export const ds01InfraCommit = '2cf1a0e';

/** ds01-infra's files at that commit, as the repository lays them out. */
export const ds01InfraFiles = fileURLToPath(new URL('../fixtures/ds01-infra/parser/', import.meta.url));

/** What one user gets from `get_resource_limits.py USER <flag>` for the flags DS01 compares. */
export interface ParserOutput {
  json: Record<string, string>;
  group: string;
  dockerArgs: string;
}

/** Why the real parser cannot run here, or undefined when it can. */
export function unavailableReason(): string | undefined {
  const python = spawnSync('python3', ['-c', 'import yaml'], { encoding: 'utf8' });
  if (python.error || python.status !== 0) return 'python3 with PyYAML is not installed';
  return undefined;
}

/** A temporary ds01-infra checkout holding only the parser, with `configDir` as its config/runtime. */
function checkoutWith(configDir: string): { script: string; cleanup(): void } {
  const root = mkdtempSync(join(tmpdir(), 'ds01-infra-parser-'));
  for (const path of ['scripts/docker/get_resource_limits.py', 'scripts/lib/username_utils.py']) {
    mkdirSync(join(root, dirname(path)), { recursive: true });
    copyFileSync(join(ds01InfraFiles, path), join(root, path));
  }
  mkdirSync(join(root, 'config'));
  symlinkSync(resolve(configDir), join(root, 'config', 'runtime'));
  return {
    script: join(root, 'scripts/docker/get_resource_limits.py'),
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}

/**
 * Calls the script's own main() once per user and flag, as `get_resource_limits.py USER FLAG`
 * would (argv set, stdout captured), in one Python process.
 */
const driver = `
import contextlib, importlib.util, io, json, sys
script, users = sys.argv[1], json.loads(sys.argv[2])
spec = importlib.util.spec_from_file_location("get_resource_limits", script)
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
def run(user, flag):
    sys.argv = [script, user, flag]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        module.main()
    return out.getvalue().rstrip("\\n")
print(json.dumps({u: {"json": json.loads(run(u, "--json")), "group": run(u, "--group"),
                      "dockerArgs": run(u, "--docker-args")} for u in users}, ensure_ascii=False))
`;

/** What ds01-infra's parser prints for each user on the configuration in `configDir`. */
export function runDs01InfraParser(
  configDir: string,
  users: readonly string[],
): Record<string, ParserOutput> {
  const checkout = checkoutWith(configDir);
  try {
    const stdout = execFileSync('python3', ['-c', driver, checkout.script, JSON.stringify(users)], {
      encoding: 'utf8',
      env: { ...process.env, PYTHONIOENCODING: 'utf-8' },
    });
    return JSON.parse(stdout) as Record<string, ParserOutput>;
  } finally {
    checkout.cleanup();
  }
}

/** Runs a Python expression over each input (JSON in, JSON out), for checks against Python itself. */
export function runPython(body: string, inputs: readonly unknown[]): unknown[] {
  const program = `import json, sys\n${body}\nprint(json.dumps([convert(x) for x in json.loads(sys.stdin.read())]))`;
  const stdout = execFileSync('python3', ['-c', program], {
    input: JSON.stringify(inputs),
    encoding: 'utf8',
  });
  return JSON.parse(stdout) as unknown[];
}
