import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

/**
 * Runs ds01-infra's own limits parser (scripts/docker/get_resource_limits.py at the commit DS01
 * matches) on a configuration folder, for the parity tests. Its code is not part of DS01: it is
 * taken from a ds01-infra git repository at test time ($DS01_INFRA_REPO, else the mirror this
 * workplace keeps) into a temporary folder laid out as a ds01-infra checkout, so the script finds
 * the folder under test as its config/runtime/ exactly as on a lab's host.
 */

/** ds01-infra's commit whose behaviour DS01 reproduces (formats.md). */
export const ds01InfraCommit = '2cf1a0e';

const defaultRepo = '/work/.mirror/hertie-data-science-lab+ds01-infra/repo';

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
  const repo = process.env['DS01_INFRA_REPO'] ?? defaultRepo;
  if (!existsSync(repo)) return `no ds01-infra repository at ${repo} (set DS01_INFRA_REPO to a clone)`;
  const probe = spawnSync('git', [
    '-C',
    repo,
    'cat-file',
    '-e',
    `${ds01InfraCommit}:scripts/docker/get_resource_limits.py`,
  ]);
  if (probe.status !== 0) return `${repo} does not hold ds01-infra commit ${ds01InfraCommit}`;
  return undefined;
}

/** A temporary ds01-infra checkout holding only the parser, with `configDir` as its config/runtime. */
function checkoutWith(configDir: string): { script: string; cleanup(): void } {
  const repo = process.env['DS01_INFRA_REPO'] ?? defaultRepo;
  const root = mkdtempSync(join(tmpdir(), 'ds01-infra-parser-'));
  for (const path of ['scripts/docker/get_resource_limits.py', 'scripts/lib/username_utils.py']) {
    const text = execFileSync('git', ['-C', repo, 'show', `${ds01InfraCommit}:${path}`], {
      encoding: 'utf8',
    });
    mkdirSync(join(root, dirname(path)), { recursive: true });
    writeFileSync(join(root, path), text);
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
