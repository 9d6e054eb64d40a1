/**
 * ds01-infra's command names (`container-deploy thesis`, `image-create`, `project-init`), which its
 * users type from habit, as aliases of ds01's subcommands: the first command word is rewritten to
 * `container deploy`, ... before the program reads the arguments.
 */
export const LEGACY_NAMES: Readonly<Record<string, readonly string[]>> = {
  'container-deploy': ['container', 'deploy'],
  'container-create': ['container', 'create'],
  'container-retire': ['container', 'retire'],
  'container-list': ['container', 'list'],
  'container-start': ['container', 'start'],
  'container-stop': ['container', 'stop'],
  'container-attach': ['container', 'attach'],
  'image-create': ['image', 'create'],
  'image-list': ['image', 'list'],
  'image-delete': ['image', 'rm'],
  'image-remove': ['image', 'rm'],
  'project-init': ['project', 'init'],
  'project-launch': ['project', 'launch'],
};

/** Global options that take a value: the word after them is not a command. */
const VALUED_GLOBALS = new Set(['--data-dir', '--config-dir']);

/** `argv` with its command word rewritten when it is one of ds01-infra's names. */
export function legacyCommand(argv: readonly string[]): string[] {
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    if (VALUED_GLOBALS.has(word)) {
      i++;
      continue;
    }
    if (word.startsWith('-')) continue;
    const replacement = LEGACY_NAMES[word];
    return replacement ? [...argv.slice(0, i), ...replacement, ...argv.slice(i + 1)] : [...argv];
  }
  return [...argv];
}
