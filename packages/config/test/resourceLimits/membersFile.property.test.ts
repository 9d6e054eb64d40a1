import { describe, expect, it } from 'vitest';
import { anyText, check, withoutException } from '../../../../test/support/fuzz.ts';
import { parseGroupOverridesFile, parseMembersFile } from '../../src/resourceLimits/membersFile.ts';

/** Every member and problem points at a line of the file. */
function locatedInFile(text: string, at: { file: string; line: number; column: number }[]): void {
  const lines = text.split(/\r\n|\r|\n/).length;
  for (const place of at) {
    expect(place.file).toBe('groups/student.members');
    expect(place.line >= 1 && place.line <= lines && place.column >= 1).toBe(true);
  }
}

describe('members and group-overrides files on any input (property)', () => {
  it('a .members file: names and warnings, each at its line; never an exception', () =>
    check(
      anyText(),
      (text) => {
        const value = withoutException(() => parseMembersFile(text, 'groups/student.members'), text);
        locatedInFile(text, [...value.members.map((m) => m.at), ...value.problems]);
        for (const member of value.members) expect(member.user).not.toMatch(/#/);
      },
      300,
    ));

  it('group-overrides.txt: assignments and errors, each at its line; never an exception', () =>
    check(
      anyText(),
      (text) => {
        const value = withoutException(() => parseGroupOverridesFile(text, 'groups/student.members'), text);
        locatedInFile(text, [...value.assignments.map((a) => a.at), ...value.problems]);
      },
      300,
    ));
});
