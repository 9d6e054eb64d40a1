import { join } from 'node:path';

/** The configuration folders of the parity tests, and the users each is asked about. */
export const fixturesDir = join(import.meta.dirname, '..', 'fixtures', 'ds01-infra');

export interface ParityCase {
  /** Folder under fixtures/ds01-infra/, with `<name>.expected.json` beside it. */
  name: string;
  users: readonly string[];
}

export const parityCases: readonly ParityCase[] = [
  {
    // ds01-infra's own resource-limits.yaml (2cf1a0e) with members, overrides and exemptions we wrote.
    name: 'lab',
    users: [
      'ana', // student.members, with spaces and a comment
      '228755@hertie-school.lan', // numeric student id with a domain
      'sam', // in student and researcher: the first group (student) wins
      'h.baker@hertie-school.lan', // researcher, domain user
      'j.doe@hertie-school.lan', // found through its sanitized name j_doe
      'j_doe',
      '204214@hertie-school.lan', // researcher with an override: the override replaces the group
      'konstantin.papadopoulos-vanderberg@hertie-school.lan', // sanitized name truncated + md5
      'w.lowell@hertie-school.lan', // faculty
      'lee', // in faculty and admin: faculty wins
      'datasciencelab', // admin: unlimited
      'm.rossi@hertie-school.lan', // override keyed by the sanitized name, floats
      'legacy_user', // override with a shadowed legacy alias
      'gpu_whale', // override with null (unlimited) values and its own aggregate
      'old.student@hertie-school.lan', // archived.members only: not read, default group
      'nobody', // unknown: default group
      "Jane.O'Neil@HERTIE-SCHOOL.LAN", // characters outside [a-zA-Z0-9_:]
      'zoë.müller@hertie-school.lan', // non-ASCII letters
      'a.very.long.username.that.needs.truncation@students.hertie-school.org',
    ],
  },
  {
    // ds01-infra's test fixture (tests/fixtures/resource-limits-test.yaml): legacy keys, inline members.
    name: 'test-fixture',
    users: ['student1', 'student2', 'testuser', 'researcher1', 'admin1', 'special_user', 'unknown_user'],
  },
  {
    // Our file of YAML 1.1 and format quirks: floats, octal, sexagesimal, merge keys, aliases.
    name: 'quirks',
    users: [
      'y',
      'n',
      '204214',
      'on_call',
      'on',
      'c_member',
      'zoë.müller@hertie-school.lan',
      'inline_user',
      'both_user',
      'nobody',
    ],
  },
];

export const expectedFile = (name: string) => join(fixturesDir, `${name}.expected.json`);
