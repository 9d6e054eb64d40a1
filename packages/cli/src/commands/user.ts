import { userInfo } from 'node:os';
import { effectiveLimits, loadResourceLimits } from '@ds01/config';
import { UserDeparted, UserName, UserRegistered, userStream } from '@ds01/domain';
import { newEventId } from '@ds01/event-store';
// By its own path: the host index would load dockerode into every command.
import { lookupAccount } from '@ds01/host/accounts';
import { UserRow, usersProjection } from '@ds01/projections';
import type { Command } from 'commander';
import { requireAdmin } from '../admin.ts';
import type { CliContext } from '../context.ts';
import { CliError } from '../errors.ts';
import type { Column } from '../output/table.ts';
import { freshReadModel } from '../projections/freshView.ts';

export function register(program: Command, context: CliContext): void {
  const user = program
    .command('user')
    .description('users of the lab: register one (their gateway socket appears), list them, see one leave');

  user
    .command('add')
    .description('register a unix user with DS01: ds01d gives them their own Docker socket')
    .argument('<name>', 'the unix user name (as `getent passwd NAME` knows it)')
    .option('--group <group>', 'their group (default: the group resource-limits.yaml gives them)')
    .addHelpText(
      'after',
      `
Records UserRegistered on the stream user-<name>. ds01d's gateway then creates
/run/ds01/users/<name>/docker.sock (owned by the user, mode 0600): the user's DOCKER_HOST.
Users listed in config/groups/*.members get a socket without being added.

Examples:
  ds01 user add alice
  ds01 user add h.baker@hertie-school.lan --group researcher`,
    )
    .action(async (name: string, options: { group?: string }) => {
      requireAdmin('user add');
      if (!UserName.safeParse(name).success) throw new CliError(`'${name}' is not a user name`);
      const account = await lookupAccount(name);
      if (!account) {
        throw new CliError(`no unix user '${name}' on this host`, {
          hint: `create the account first (useradd, or your directory service), then: ds01 user add ${name}`,
        });
      }
      const config = context.config();
      const group =
        options.group ?? effectiveLimits(loadResourceLimits(config.paths.configDir), name).memberOf;
      const store = await context.store({ write: true });
      await store.append(userStream(name), [
        {
          ...UserRegistered({ user: name, uid: account.uid, group }),
          metadata: adminMetadata(config.host),
        },
      ]);
      context.output.line(`registered ${name} (uid ${account.uid}, group ${group})`);
      context.output.line(
        `their Docker socket: ds01d creates it; they set DOCKER_HOST (infra/profile.d does)`,
      );
    });

  user
    .command('depart')
    .alias('remove')
    .description(
      '(admin) record that a user left the lab: their socket closes; after the notice their containers go and their GPUs are freed',
    )
    .argument('<name>', 'the username, as the lab writes it')
    .option('--reason <text>', 'why (recorded)', 'left the lab')
    .addHelpText(
      'after',
      `
Records UserDeparted on the stream user-<name>: ds01d's gateway removes their socket at once;
after ds01.yaml's lifecycle.departed_notice_h (default 72 h) the user's containers are stopped
and removed (they are warned before, like any retirement) and the GPUs they held are released.
A user whose account disappears from the host (getent passwd) is recorded departed by ds01d itself.
\`ds01 user remove\` is the same command.

Example:
  ds01 user depart alice --reason "graduated"`,
    )
    .action(async (name: string, options: { reason: string }) => {
      requireAdmin('user depart');
      const config = context.config();
      const store = await context.store({ write: true });
      await store.append(userStream(name), [
        { ...UserDeparted({ user: name, reason: options.reason }), metadata: adminMetadata(config.host) },
      ]);
      const notice = config.yaml.lifecycle?.departed_notice_h ?? 72;
      context.output.line(
        `${name} departed: ds01d removes their socket; their containers are retired after ${notice} h ` +
          `(see \`ds01 lifecycle --user ${name}\`)`,
      );
    });

  user
    .command('list')
    .description('every registered user: uid, group, since when (and who left)')
    .option('-a, --all', 'also users who left')
    .option('--json', 'the rows as one JSON array')
    .action(async (options: { all?: boolean; json?: boolean }) => {
      const rows = (await freshReadModel(context, [usersProjection])).query(
        UserRow,
        `SELECT user, uid, "group", registered_at, departed_at, departure_reason FROM users` +
          (options.all ? '' : ' WHERE departed_at IS NULL') +
          ' ORDER BY user',
      );
      if (options.json) context.output.json(rows);
      else context.output.table(userColumns, rows, '(no users registered: ds01 user add NAME)');
    });
}

const userColumns: Column<UserRow>[] = [
  { header: 'user', value: (r) => r.user, shrink: true },
  { header: 'uid', value: (r) => (r.uid === null ? '?' : String(r.uid)), align: 'right' },
  { header: 'group', value: (r) => r.group },
  { header: 'registered', value: (r) => r.registered_at },
  { header: 'departed', value: (r) => (r.departed_at ? `${r.departed_at} (${r.departure_reason})` : '-') },
];

/** Metadata of an event an admin records from the command line (the actor is the real uid's name). */
function adminMetadata(host: string) {
  return {
    eventId: newEventId(),
    occurredAt: new Date().toISOString(),
    actor: { kind: 'user' as const, name: userInfo().username },
    host,
    correlationId: newEventId(),
    causationId: null,
  };
}
