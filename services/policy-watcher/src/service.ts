import { hostname } from 'node:os';
import type { EventStore } from '@ds01/event-store';
import { PolicyWatcher, type PolicyWatcherLogger } from './policyWatcher.ts';

/** What the policy watcher needs from ds01d's ServiceContext (services/ds01d/src/service.ts). */
export interface PolicyWatcherServiceContext {
  store: EventStore;
  logger: PolicyWatcherLogger;
  config: { host?: string | undefined };
  paths: { configDir: string };
}

/** The policy watcher as a ds01d service: watches the resource limits in ds01d's configuration folder. */
export const policyWatcherService = {
  name: 'policy-watcher',
  async start(context: PolicyWatcherServiceContext): Promise<{ stop(): Promise<void> }> {
    const watcher = new PolicyWatcher({
      store: context.store,
      configDir: context.paths.configDir,
      host: context.config.host ?? hostname(),
      logger: context.logger,
    });
    await watcher.start();
    return { stop: () => watcher.stop() };
  },
};
