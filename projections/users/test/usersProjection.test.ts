import { UserDeparted, UserRegistered } from '@ds01/domain';
import { describe, expect, it } from 'vitest';
import { projectionSpec } from '../../runner/projectionSpec.ts';
import { usersProjection } from '../usersProjection.ts';

const alice = UserRegistered({ user: 'alice', uid: 1001, group: 'students' });
const at = (occurredAt: string, event: { type: string; data: unknown }) => ({ ...event, occurredAt });
const ALL =
  'SELECT user, uid, "group", registered_at, departed_at, departure_reason FROM users ORDER BY user';

describe('users projection', () => {
  it('given nothing, when a user registers, then the user is listed as present', () => {
    const rows = projectionSpec(usersProjection).when(at('2025-02-01T09:00:00.000Z', alice)).rows(ALL);
    expect(rows).toEqual([
      {
        user: 'alice',
        uid: 1001,
        group: 'students',
        registered_at: '2025-02-01T09:00:00.000Z',
        departed_at: null,
        departure_reason: null,
      },
    ]);
  });

  it('given a registered user, when they depart, then the row records when and why', () => {
    const rows = projectionSpec(usersProjection)
      .given(alice)
      .when(at('2025-06-30T17:00:00.000Z', UserDeparted({ user: 'alice', reason: 'graduated' })))
      .rows('SELECT user, departed_at, departure_reason FROM users');
    expect(rows).toEqual([
      { user: 'alice', departed_at: '2025-06-30T17:00:00.000Z', departure_reason: 'graduated' },
    ]);
  });

  it('given a departed user, when they register again, then the row is reopened with the new uid and group', () => {
    const rows = projectionSpec(usersProjection)
      .given(alice, UserDeparted({ user: 'alice', reason: 'graduated' }))
      .when(
        at('2026-01-10T08:00:00.000Z', UserRegistered({ user: 'alice', uid: 2002, group: 'researchers' })),
      )
      .rows(ALL);
    expect(rows).toEqual([
      {
        user: 'alice',
        uid: 2002,
        group: 'researchers',
        registered_at: '2026-01-10T08:00:00.000Z',
        departed_at: null,
        departure_reason: null,
      },
    ]);
  });

  it('given nothing, when an unknown user departs, then no row appears', () => {
    const rows = projectionSpec(usersProjection)
      .when(UserDeparted({ user: 'ghost', reason: 'left' }))
      .rows(ALL);
    expect(rows).toEqual([]);
  });

  it('keeps users apart, with a null uid for domain accounts that have none', () => {
    const rows = projectionSpec(usersProjection)
      .given(alice, UserRegistered({ user: 'bob@lab.example', uid: null, group: 'faculty' }))
      .when(UserDeparted({ user: 'alice', reason: 'graduated' }))
      .rows('SELECT user, uid, departed_at IS NOT NULL AS departed FROM users ORDER BY user');
    expect(rows).toEqual([
      { user: 'alice', uid: 1001, departed: 1 },
      { user: 'bob@lab.example', uid: null, departed: 0 },
    ]);
  });

  it('refuses, like the log would, an event whose data does not fit its schema', () => {
    const error = projectionSpec(usersProjection)
      .when({ type: 'UserRegistered', data: { user: 'carol', group: 'students' } })
      .error();
    expect(error).toMatchObject({ name: 'EventSchemaError', field: 'uid' });
  });
});
