import type { Caller } from '../access/caller.ts';
import { resolveOwnContainer } from '../access/containerAccess.ts';
import { type Decision, refuse } from '../decision.ts';
import type { GatewayContext } from '../gatewayContext.ts';
import { encodeTarget, firstValue, type RequestTarget } from '../request/requestTarget.ts';
import { dockerMessage } from '../upstream/dockerUpstream.ts';

/** How long a retire lets the container's processes end (SIGTERM, then SIGKILL): `docker stop`'s 10 s. */
const DEFAULT_STOP_SECONDS = 10;
const MAX_STOP_SECONDS = 60;

/**
 * POST /ds01/v1/containers/{ref}/retire: stop, release the GPUs at once (GpuReleased, reason
 * `retired`: no hold, as ds01-infra's container-retire frees the GPU), remove. The daemon decides:
 * the container must be the socket's user's (resolved by dockerd, as every container endpoint), and
 * the release names the resolved id, so a user can free only their own GPUs. The GPUs are released
 * after the stop (nobody else gets a device the container still uses) and before the remove (the
 * hold a stop would start never outlives the retire).
 */
export async function retireContainer(
  context: GatewayContext,
  caller: Caller,
  ref: string,
  target: RequestTarget,
): Promise<Decision> {
  const endpoint = 'POST /ds01/v1/containers/{name}/retire';
  const container = await resolveOwnContainer(context, caller, ref, endpoint);
  if ('kind' in container) return container;
  const asked = Number(firstValue(target.query, 't') ?? DEFAULT_STOP_SECONDS);
  const seconds = Number.isInteger(asked)
    ? Math.min(Math.max(asked, 0), MAX_STOP_SECONDS)
    : DEFAULT_STOP_SECONDS;
  const stop = await context.upstream.json(
    'POST',
    encodeTarget(null, ['containers', container.id, 'stop'], [['t', String(seconds)]]),
    undefined,
    (seconds + 15) * 1000,
  );
  // 304: it was not running; 404: gone meanwhile (its GPUs are released all the same).
  if (![204, 304, 404].includes(stop.status)) {
    return refuse(
      stop.status,
      'retire-stop',
      `Docker could not stop ${ref}: ${dockerMessage(stop.body)}`,
      ref,
    );
  }
  const actor = { kind: 'user' as const, name: caller.kind === 'user' ? caller.user : 'root' };
  const { released } = await context.allocator.release(
    { target: { container: container.id }, reason: 'retired', ifNothingHeld: 'ignore' },
    actor,
  );
  const removed = await context.upstream.json(
    'DELETE',
    encodeTarget(
      null,
      ['containers', container.id],
      [
        ['force', '1'],
        ['v', '1'],
      ],
    ),
  );
  if (![204, 404].includes(removed.status)) {
    return refuse(
      removed.status,
      'retire-remove',
      `${ref} is stopped and its GPUs are free, but Docker could not remove it: ${dockerMessage(removed.body)}`,
      ref,
    );
  }
  return {
    kind: 'answer',
    status: 200,
    json: {
      containerId: container.id,
      name: container.name,
      stopped: stop.status === 204,
      released: released.map((r) => r.slot),
    },
  };
}
