import { z } from 'zod';

export const NotificationChannel = z.enum(['tty', 'email', 'webhook']);
export type NotificationChannel = z.infer<typeof NotificationChannel>;

const Channels = z.array(NotificationChannel).describe('a list of tty, email, webhook');

/**
 * ds01.yaml `notifications:` — how users are told (before a retirement, on a quota denial, on a host
 * GPU process). Per-user preferences live here, next to the channels they choose from, rather than
 * in resource-limits.yaml (which keeps ds01-infra's format unchanged): `users.<name>.channels`
 * replaces `channels` for that user, `users.<name>.email` their address (default
 * `<user>@<email_domain>`).
 */
export const NotificationsConfig = z.strictObject({
  /** Every user's channels unless they chose others. */
  channels: Channels.default(['tty']),
  smtp: z
    .strictObject({
      host: z.string().min(1),
      port: z.int().min(1).max(65535).default(25),
      /** TLS from the start (port 465); otherwise STARTTLS when the server offers it. */
      secure: z.boolean().default(false),
      from: z.string().min(3),
      user: z.string().optional(),
      /** A file holding the password (never the password itself in ds01.yaml). */
      password_file: z.string().optional(),
    })
    .optional(),
  /** Addresses are `<user>@<email_domain>` unless a user has their own. */
  email_domain: z.string().min(1).optional(),
  webhook: z
    .strictObject({
      url: z.url(),
      /** Slack's `{text}` or a Teams MessageCard. */
      format: z.enum(['slack', 'teams']).default('slack'),
    })
    .optional(),
  users: z
    .record(
      z.string(),
      z
        .strictObject({ channels: Channels.optional(), email: z.email().optional() })
        .describe('a map with channels, email'),
    )
    .default({}),
  /** How long finding a user's terminals (`who`) and one delivery may take. */
  timeout_s: z.number().positive().default(10),
});
export type NotificationsConfig = z.infer<typeof NotificationsConfig>;

export const notificationsSection = { notifications: NotificationsConfig.nullish() };

export const DEFAULT_NOTIFICATIONS_CONFIG: NotificationsConfig = NotificationsConfig.parse({});

export function notificationsConfigOf(yaml: {
  notifications?: NotificationsConfig | null | undefined;
}): NotificationsConfig {
  return yaml.notifications ?? DEFAULT_NOTIFICATIONS_CONFIG;
}

/** The channels a user is notified on. */
export function channelsOf(config: NotificationsConfig, user: string): NotificationChannel[] {
  return config.users[user]?.channels ?? config.channels;
}

/** A user's e-mail address, or null when neither theirs nor a domain is configured. */
export function emailOf(config: NotificationsConfig, user: string): string | null {
  const own = config.users[user]?.email;
  if (own) return own;
  if (!config.email_domain) return null;
  return user.includes('@') ? user : `${user}@${config.email_domain}`;
}
