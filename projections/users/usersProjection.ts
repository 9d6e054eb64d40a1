import { z } from 'zod';
import { defineProjection, preparedOnce } from '../runner/projection.ts';

/**
 * Who is (and was) a user of the lab: one row per user, from UserRegistered and UserDeparted.
 * A user who comes back after leaving is registered again: the row is reopened.
 */
export const usersProjection = defineProjection({
  name: 'users',
  version: 1,
  description: 'users of the lab: uid, group, when they registered and departed',
  eventTypes: ['UserRegistered', 'UserDeparted'],
  setup(db) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS users (
        user             TEXT PRIMARY KEY,
        uid              INTEGER,
        "group"          TEXT NOT NULL,
        registered_at    TEXT NOT NULL,
        departed_at      TEXT,
        departure_reason TEXT
      )`);
  },
  reset(db) {
    db.exec('DROP TABLE IF EXISTS users');
  },
  apply(db, event) {
    const sql = statements(db);
    const at = event.metadata.occurredAt;
    switch (event.type) {
      case 'UserRegistered':
        sql.register.run(event.data.user, event.data.uid, event.data.group, at);
        return;
      case 'UserDeparted':
        sql.depart.run(at, event.data.reason, event.data.user);
        return;
    }
  },
});

const statements = preparedOnce((db) => ({
  register: db.prepare(
    `INSERT INTO users (user, uid, "group", registered_at, departed_at, departure_reason)
     VALUES (?, ?, ?, ?, NULL, NULL)
     ON CONFLICT (user) DO UPDATE SET uid = excluded.uid, "group" = excluded."group",
       registered_at = excluded.registered_at, departed_at = NULL, departure_reason = NULL`,
  ),
  // The departure of a user never registered has no row to close: it changes nothing.
  depart: db.prepare(`UPDATE users SET departed_at = ?, departure_reason = ? WHERE user = ?`),
}));

/** A row of the users table, as readers get it (ReadModel.query(UserRow, ...)). */
export const UserRow = z.object({
  user: z.string(),
  uid: z.number().int().nullable(),
  group: z.string(),
  registered_at: z.string(),
  departed_at: z.string().nullable(),
  departure_reason: z.string().nullable(),
});
export type UserRow = z.infer<typeof UserRow>;
