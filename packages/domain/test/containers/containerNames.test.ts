import { containerNameProblem, displayNameOf, dockerNameOf } from '@ds01/domain';
import { describe, expect, it } from 'vitest';

describe("ds01-infra's <name>._.<uid> container names", () => {
  it('a name and a uid make the Docker name; the Docker name shows as the name', () => {
    expect(dockerNameOf('thesis', 1001)).toBe('thesis._.1001');
    expect(displayNameOf('thesis._.1001')).toBe('thesis');
    expect(displayNameOf('/thesis._.1001')).toBe('thesis');
    expect(displayNameOf('my.run._.7')).toBe('my.run');
    expect(displayNameOf('plain-docker-name')).toBe('plain-docker-name');
  });

  it.each([
    ['thesis', undefined],
    ['run_2.v3-final', undefined],
    ['x._.1002', /DS01 adds itself/],
    ['-flag', /not a container name/],
    ['with space', /not a container name/],
    ['', /not a container name/],
    ['a'.repeat(201), /longer than 200/],
  ])('%s', (name, problem) => {
    if (problem === undefined) expect(containerNameProblem(name)).toBeUndefined();
    else expect(containerNameProblem(name)).toMatch(problem);
  });
});
