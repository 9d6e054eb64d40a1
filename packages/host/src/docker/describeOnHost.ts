import {
  type ContainerDescription,
  type ContainerInspect,
  describeContainer,
  describeFromEventAttributes,
  labelsOfEventAttributes,
  ownerCandidates,
  ownerPaths,
  ToolLabel,
} from '@ds01/domain';
import type { HostUserDirectory } from './hostUsers.ts';
import { homePathOwners } from './hostUsers.ts';

/** What the host layer adds to an inspect answer to describe a container: accounts and path owners. */
export interface HostFacts {
  users: HostUserDirectory;
  /** The daemon's default runtime (`docker info`). */
  defaultRuntime: string;
}

/**
 * Describes an inspected container: the pure description, fed with the host facts it needs. Its
 * owner is a claim (what the creator wrote); the verified owner, when the container came through a
 * user's gateway socket, is the gateway's ContainerCreateAuthorized, which the containers' fold sets
 * beside it (the gateway's append and Docker's create event race, so the watcher cannot wait for it).
 */
export async function describeOnHost(
  inspect: ContainerInspect,
  host: HostFacts,
): Promise<ContainerDescription> {
  const users = await host.users.resolve(ownerCandidates(inspect));
  const pathOwners = await homePathOwners(ownerPaths(inspect));
  return describeContainer(inspect, { users, pathOwners, defaultRuntime: host.defaultRuntime });
}

/** Describes a container that is already gone, from its Docker event's attributes. */
export async function describeGoneContainer(
  containerId: string,
  attributes: Readonly<Record<string, string>>,
  host: HostFacts,
): Promise<ContainerDescription> {
  const labels = labelsOfEventAttributes(attributes);
  const paths = [labels[ToolLabel.composeWorkingDir], labels[ToolLabel.devcontainerLocalFolder]].filter(
    (p): p is string => p?.startsWith('/home/') === true,
  );
  const names = paths.map((p) => p.split('/')[2]!).filter(Boolean);
  const users = await host.users.resolve({ names, uids: [] });
  return describeFromEventAttributes(containerId, attributes, {
    users,
    pathOwners: await homePathOwners(paths),
    defaultRuntime: host.defaultRuntime,
  });
}
