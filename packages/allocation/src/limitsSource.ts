import {
  allocationLimits,
  ConfigError,
  effectiveLimits,
  type ResourceLimits,
  readConfigFiles,
  resolveResourceLimits,
} from '@ds01/config';
import type { LimitsSource } from './ports.ts';

/**
 * A name no account can have (`#` is not allowed in unix names): the limits of a container with no
 * owner are those of the default group, which is where every unlisted name falls.
 */
const NOBODY = '#no-owner';

/** GPU limits of each user from the lab's resource limits (ds01-infra's resolution). */
export function limitsFromResourceLimits(config: ResourceLimits): LimitsSource {
  return { limitsFor: (user) => allocationLimits(effectiveLimits(config, user ?? NOBODY)) };
}

/**
 * GPU limits from the resource-limits.yaml of a config dir (and the files beside it), resolved again
 * whenever one of them changed: ds01d runs for months, and an admin who edits a quota expects the
 * next decision to follow it. A change that does not validate keeps the last valid limits in force
 * (the policy watcher records the refusal as PolicyRejected), so a broken edit cannot lift or
 * drop every quota; files that never validated make the decision fail with their ConfigError
 * (file:line): unlike ds01-infra, no GPU is granted against limits that cannot be read.
 */
export function limitsFromConfigDir(configDir: string): LimitsSource {
  let loaded: { digest: string; limits: LimitsSource } | undefined;
  return {
    limitsFor(user) {
      const files = readConfigFiles(configDir);
      const digest = [...files.sha256].map(([name, sha]) => `${name}=${sha}`).join(' ');
      if (loaded?.digest !== digest) {
        try {
          loaded = { digest, limits: limitsFromResourceLimits(resolveResourceLimits(files)) };
        } catch (error) {
          if (!(error instanceof ConfigError) || !loaded) throw error;
        }
      }
      return loaded.limits.limitsFor(user);
    },
  };
}
