import { expect, it } from 'vitest';
import { shellCommands } from './shellBlocks.ts';

it('takes the command lines of sh blocks only, without comments, with their README line', () => {
  const markdown = [
    '# Title',
    '```sh',
    'scripts/start.sh     # run DS01',
    '',
    '# a whole-line comment',
    'npx ds01 gpu who --at "3d ago"   # who held # what',
    "echo 'a # kept' # cut",
    'echo a#b',
    '```',
    '```',
    'not a command',
    '```',
    '```ts',
    'const x = 1;',
    '```',
  ].join('\n');
  expect(shellCommands(markdown)).toEqual([
    { command: 'scripts/start.sh', line: 3 },
    { command: 'npx ds01 gpu who --at "3d ago"', line: 6 },
    { command: "echo 'a # kept'", line: 7 },
    { command: 'echo a#b', line: 8 },
  ]);
});
