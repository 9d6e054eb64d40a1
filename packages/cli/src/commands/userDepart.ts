import { userInfo } from 'node:os';
import { UserDeparted, userStream } from '@ds01/domain';
import { newEventId } from '@ds01/event-store';
import type { Command } from 'commander';
import { requireAdmin } from '../admin.ts';
import type { CliContext } from '../context.ts';

/**
 * `ds01 user depart`: a user left the lab. Its own group-less file so that it sits beside whatever
 * else registers `ds01 user ...` (the gateway's add/list): it adds itself to an existing `user`
 * command, or makes one.
 */
export function register(program: Command, context: CliContext): void {
  const user =
    program.commands.find((c) => c.name() === 'user') ??
    program.command('user').description("the lab's users: who may use DS01, who left");
  user
    .command('depart')
    .description(
      '(admin) record that a user left the lab: after the notice their containers go, their GPUs are freed',
    )
    .argument('<name>', 'the username, as the lab writes it')
    .option('--reason <text>', 'why (recorded)', 'left the lab')
    .addHelpText(
      'after',
      `
After ds01.yaml's lifecycle.departed_notice_h (default 72 h) the user's containers are stopped
and removed (they are warned before, like any retirement) and the GPUs they held are released.
A user whose account disappears from the host (getent passwd) is recorded departed by ds01d itself.

Example:
  ds01 user depart alice --reason "graduated"`,
    )
    .action(async (name: string, options: { reason: string }) => {
      requireAdmin('user depart');
      const store = await context.store({ write: true });
      const now = new Date();
      const event = UserDeparted({ user: name, reason: options.reason });
      await store.append(userStream(name), [
        {
          ...event,
          metadata: {
            eventId: newEventId(now.getTime()),
            occurredAt: now.toISOString(),
            actor: { kind: 'user', name: userInfo().username },
            host: context.config().host,
            correlationId: newEventId(now.getTime()),
            causationId: null,
          },
        },
      ]);
      const notice = context.config().yaml.lifecycle?.departed_notice_h ?? 72;
      context.output.line(
        `${name} departed: their containers are retired after ${notice} h (see \`ds01 lifecycle --user ${name}\`)`,
      );
    });
}
