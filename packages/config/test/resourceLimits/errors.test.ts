import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  describeProblem,
  inspectResourceLimits,
  type LimitsProblem,
  loadResourceLimits,
  readConfigFiles,
} from '../../src/resourceLimits/index.ts';
import { ConfigError } from '../../src/yamlFile.ts';

/** Malformed files each give their clear problem: file:line:column, key, what is expected, nearest key. */

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const base = `defaults:
  max_gpu_equivalents: 1.0
  max_cpus: 32
default_group: student
groups:
  student:
    max_gpu_equivalents: 2.0
  researcher:
    max_gpu_equivalents: 4.0
`;

/** A configuration folder on disk with these files. */
function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'ds01-limits-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

function problemsOf(files: Record<string, string>): LimitsProblem[] {
  return inspectResourceLimits(readConfigFiles(folder(files))).problems;
}

function onlyProblem(
  files: Record<string, string>,
  severity: LimitsProblem['severity'] = 'error',
): LimitsProblem {
  const problems = problemsOf(files);
  expect(problems.map(describeProblem)).toHaveLength(1);
  expect(problems[0]!.severity).toBe(severity);
  return problems[0]!;
}

describe('a malformed resource-limits.yaml', () => {
  it('a wrong type names file:line:column, the key, the value and what is expected', () => {
    const p = onlyProblem({ 'resource-limits.yaml': base.replace('max_cpus: 32', 'max_cpus: lots') });
    expect(p).toMatchObject({ line: 3, column: 13, key: 'defaults.max_cpus', found: '"lots"' });
    expect(p.file).toMatch(/resource-limits\.yaml$/);
    expect(p.expected).toBe('a number of CPU cores > 0');
    expect(describeProblem(p)).toMatch(
      /^error: .*resource-limits\.yaml:3:13: defaults\.max_cpus: is "lots"; expected a number of CPU cores > 0$/,
    );
  });

  it('an unknown key names the nearest known key', () => {
    const p = onlyProblem({
      'resource-limits.yaml': base.replace('    max_gpu_equivalents: 4.0', '    max_gpu_equivalnts: 4.0'),
    });
    expect(p).toMatchObject({ line: 9, column: 5, key: 'groups.researcher.max_gpu_equivalnts' });
    expect(p.suggestion).toBe('max_gpu_equivalents');
    expect(describeProblem(p)).toContain("(did you mean 'max_gpu_equivalents'?)");
  });

  it('a known key in the wrong place says where it belongs', () => {
    const p = onlyProblem({
      'resource-limits.yaml': base.replace('  max_cpus: 32', '  max_cpus: 32\n  members: [ana]'),
    });
    expect(p.key).toBe('defaults.members');
    expect(p.message).toBe('is not valid here; it belongs in groups.<name>.members');
  });

  it('a negative number is refused', () => {
    const p = onlyProblem({
      'resource-limits.yaml': base.replace('    max_gpu_equivalents: 2.0', '    max_gpu_equivalents: -2'),
    });
    expect(p).toMatchObject({ line: 7, column: 26, key: 'groups.student.max_gpu_equivalents', found: '-2' });
    expect(p.message).toMatch(/^is negative \(-2\); expected a number of GPU-equivalents ≥ 0/);
  });

  it('an unknown default group names the groups there are', () => {
    const p = onlyProblem({
      'resource-limits.yaml': base.replace('default_group: student', 'default_group: studnet'),
    });
    expect(p).toMatchObject({ line: 4, column: 16, key: 'default_group', suggestion: 'student' });
    expect(p.expected).toBe('one of student, researcher');
  });

  it('a YAML syntax error is located', () => {
    const p = onlyProblem({ 'resource-limits.yaml': `${base}  broken: [unclosed\n` });
    expect(p.message).toMatch(/^is not valid YAML/);
    expect(p.line).toBeGreaterThan(9);
  });

  it('an empty file is refused, a missing one too', () => {
    expect(onlyProblem({ 'resource-limits.yaml': '# nothing yet\n' }).message).toBe('is empty');
    const dir = folder({ 'groups/student.members': 'ana\n' });
    expect(() => loadResourceLimits(dir)).toThrow(/holds no resource-limits\.yaml/);
  });

  it('a username key read as a number (YAML 1.1) must be quoted', () => {
    const p = onlyProblem({ 'resource-limits.yaml': `${base}user_overrides:\n  204214:\n    max_cpus: 8\n` });
    expect(p).toMatchObject({ line: 11, column: 3, key: 'user_overrides.204214' });
    expect(p.message).toBe('is read as a number by YAML 1.1, so ds01-infra never matches it');
  });

  it('an inline member written as a number must be quoted', () => {
    const p = onlyProblem({
      'resource-limits.yaml': base.replace('    max_gpu_equivalents: 2.0', '    members: [204214]'),
    });
    expect(p).toMatchObject({ key: 'groups.student.members.0', found: '204214', line: 7, column: 15 });
    expect(p.expected).toMatch(/quote numeric ones/);
  });

  it('a group name with a hyphen would break the slice hierarchy', () => {
    const p = onlyProblem({ 'resource-limits.yaml': base.replace('  researcher:', '  phd-students:') });
    expect(p.key).toBe('groups.phd-students');
    expect(p.message).toMatch(/contains '-'/);
  });

  it('an aggregate needs all four slice settings', () => {
    const p = onlyProblem({
      'resource-limits.yaml': base.replace(
        '    max_gpu_equivalents: 2.0',
        '    max_gpu_equivalents: 2.0\n    aggregate:\n      cpu_quota: "9600%"\n      memory_max: 96G\n      memory_high: 86G',
      ),
    });
    expect(p).toMatchObject({ key: 'groups.student.aggregate.tasks_max', line: 9, column: 7 });
    expect(p.message).toMatch(/^is missing; expected a whole number/);
  });

  it('every error is reported, not just the first, and loading throws them all', () => {
    const dir = folder({
      'resource-limits.yaml': base
        .replace('max_cpus: 32', 'max_cpus: -1')
        .replace('default_group: student', 'default_group: x'),
    });
    let error: unknown;
    try {
      loadResourceLimits(dir);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map((p) => p.key)).toEqual(['defaults.max_cpus', 'default_group']);
    expect((error as ConfigError).hint).toMatch(/ds01 config check/);
  });
});

describe('the files beside resource-limits.yaml', () => {
  it('a user in two groups: a warning naming both files and lines; the first group in the file wins', () => {
    const files = {
      'resource-limits.yaml': base,
      'groups/student.members': '# students\nana\nsam\n',
      'groups/researcher.members': 'sam   # moved?\n',
    };
    const p = onlyProblem(files, 'warning');
    expect(p).toMatchObject({ key: 'sam', line: 1, column: 1 });
    expect(p.file).toMatch(/groups\/researcher\.members$/);
    expect(p.related).toEqual([
      { file: expect.stringMatching(/groups\/student\.members$/), line: 3, column: 1 },
    ]);
    expect(p.message).toBe(
      'is a member of both student and researcher; ds01-infra (and DS01) use student, the first in resource-limits.yaml',
    );
  });

  it('a members file for a group the YAML does not define is ignored, with a warning', () => {
    const p = onlyProblem({ 'resource-limits.yaml': base, 'groups/researchers.members': 'ana\n' }, 'warning');
    expect(p).toMatchObject({ key: 'researchers', suggestion: 'researcher' });
    const config = loadResourceLimits(
      folder({ 'resource-limits.yaml': base, 'groups/archived.members': 'old\n' }),
    );
    expect(config.warnings).toEqual([]);
  });

  it('user-overrides.yaml is validated like the limits in resource-limits.yaml', () => {
    const p = onlyProblem({
      'resource-limits.yaml': base,
      'user-overrides.yaml': 'alice:\n  idle_timeout_h: "30m"\n',
    });
    expect(p).toMatchObject({ key: 'alice.idle_timeout_h', line: 2, column: 19, found: '"30m"' });
    expect(p.file).toMatch(/user-overrides\.yaml$/);
  });

  it('group-overrides.txt naming an unknown group is an error', () => {
    const p = onlyProblem({
      'resource-limits.yaml': base,
      'group-overrides.txt':
        '# assignments\nh.baker@hertie-school.lan:researcher\nw.lowe@hertie-school.lan:facutly  # prof\n',
    });
    expect(p).toMatchObject({ line: 3, key: 'w.lowe@hertie-school.lan', found: 'facutly' });
    expect(p.expected).toBe('one of student, researcher, archived');
  });

  it('lifecycle-exemptions.yaml: an exemption without a time zone is refused', () => {
    const p = onlyProblem({
      'resource-limits.yaml': base,
      'lifecycle-exemptions.yaml':
        'exemptions:\n  - username: ana\n    exempt_from: [idle_timeout_h]\n    expires_on: "2026-06-30"\n',
    });
    expect(p).toMatchObject({ key: 'exemptions.0.expires_on', line: 4, column: 17 });
    expect(p.expected).toMatch(/with a zone/);
  });

  it('lifecycle-exemptions.yaml: an unquoted timestamp works in DS01, with a warning about ds01-infra', () => {
    const p = onlyProblem(
      {
        'resource-limits.yaml': base,
        'lifecycle-exemptions.yaml':
          'exemptions:\n  - username: ana\n    exempt_from: [idle_timeout_h]\n    expires_on: 2026-06-30T23:59:59Z\n',
      },
      'warning',
    );
    expect(p.expected).toBe('a quoted date and time: "2026-06-30T23:59:59Z"');
  });

  it('keys renamed in 2026-04 are not read: a warning with the key to write', () => {
    const p = onlyProblem(
      { 'resource-limits.yaml': base.replace('    max_gpu_equivalents: 4.0', '    idle_timeout: 30m') },
      'warning',
    );
    expect(p).toMatchObject({ key: 'groups.researcher.idle_timeout', suggestion: 'idle_timeout_h' });
    expect(p.expected).toBe('idle_timeout_h: 0.5');
  });

  it('a legacy alias shadowed by a newer key of the defaults: a warning, as ds01-infra ignores it', () => {
    const p = onlyProblem(
      { 'resource-limits.yaml': base.replace('    max_gpu_equivalents: 4.0', '    max_mig_instances: 6') },
      'warning',
    );
    expect(p.key).toBe('groups.researcher.max_mig_instances');
    expect(p.message).toBe(
      'has no effect: ds01-infra reads max_gpu_equivalents first (defaults, line 2), even when it is null',
    );
  });

  it('a key written twice: the later wins (as in PyYAML), with a warning', () => {
    const p = onlyProblem({ 'resource-limits.yaml': `${base}default_group: researcher\n` }, 'warning');
    expect(p).toMatchObject({ key: 'default_group', line: 10 });
    expect(
      loadResourceLimits(folder({ 'resource-limits.yaml': `${base}default_group: researcher\n` }))
        .defaultGroup,
    ).toBe('researcher');
  });
});
