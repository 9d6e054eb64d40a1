import { describe, expect, it } from 'vitest';
import { legacyCommand } from '../src/commands/legacyNames.ts';

describe("ds01-infra's command names", () => {
  it.each([
    [
      ['container-deploy', 'thesis', '--gpus', '1'],
      ['container', 'deploy', 'thesis', '--gpus', '1'],
    ],
    [
      ['--data-dir', 'container-retire', 'container-retire', 'x'],
      ['--data-dir', 'container-retire', 'container', 'retire', 'x'],
    ],
    [
      ['--debug', 'image-delete', 'pt'],
      ['--debug', 'image', 'rm', 'pt'],
    ],
    [
      ['container', 'deploy', 'container-list'],
      ['container', 'deploy', 'container-list'],
    ],
    [
      ['gpu', 'status'],
      ['gpu', 'status'],
    ],
  ])('%j', (argv, expected) => {
    expect(legacyCommand(argv)).toEqual(expected);
  });
});
