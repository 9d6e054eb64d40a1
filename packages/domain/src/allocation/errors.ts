import { Ds01Error } from '@ds01/errors';
import type { ReleaseTarget } from './commands.ts';

/** Base of the allocation domain's errors: a command that cannot be decided as asked. */
export class AllocationError extends Ds01Error {
  override name = 'AllocationError';
}

/** A release that names a container or slot holding no GPU (nothing was changed). */
export class NothingToReleaseError extends AllocationError {
  override name = 'NothingToReleaseError';
  readonly target: ReleaseTarget;
  constructor(target: ReleaseTarget) {
    super(
      'containerId' in target
        ? `container ${target.containerId.slice(0, 12)} holds no GPU: nothing was released (see \`ds01 gpu status\`)`
        : `slot ${target.slot} is not held by anyone: nothing was released (see \`ds01 gpu status\`)`,
    );
    this.target = target;
  }
}

/**
 * A bind for a grant the pool no longer has pending: it expired or was released before dockerd
 * answered, and its slots may be someone else's now. The container must not run with them.
 */
export class GrantNotPendingError extends AllocationError {
  override name = 'GrantNotPendingError';
  readonly requestId: string;
  constructor(requestId: string) {
    super(
      `the GPU grant ${requestId} is no longer pending (it expired or was released): its devices may be ` +
        "someone else's now; remove the container and create it again",
    );
    this.requestId = requestId;
  }
}
