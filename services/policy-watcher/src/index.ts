export { userNameOf } from './fileOwner.ts';
export {
  type CheckOutcome,
  PolicyWatcher,
  type PolicyWatcherLogger,
  type PolicyWatcherOptions,
} from './policyWatcher.ts';
export { type PolicyWatcherServiceContext, policyWatcherService } from './service.ts';
