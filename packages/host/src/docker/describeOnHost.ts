import {
  bindSources,
  type ContainerDescription,
  type ContainerInspect,
  describeContainer,
  describeFromEventAttributes,
  ownerCandidates,
} from '@ds01/domain';
import type { HostUserDirectory } from './hostUsers.ts';
import { homePathOwners } from './hostUsers.ts';

/** What the host layer adds to an inspect answer to describe a container: accounts and path owners. */
export interface HostFacts {
  users: HostUserDirectory;
  /** The daemon's default runtime (`docker info`). */
  defaultRuntime: string;
}

/** Describes an inspected container: the pure description, fed with the host facts it needs. */
export async function describeOnHost(
  inspect: ContainerInspect,
  host: HostFacts,
): Promise<ContainerDescription> {
  const users = await host.users.resolve(ownerCandidates(inspect));
  const pathOwners = await homePathOwners(bindSources(inspect));
  return describeContainer(inspect, { users, pathOwners, defaultRuntime: host.defaultRuntime });
}

/** Describes a container that is already gone, from its Docker event's attributes. */
export async function describeGoneContainer(
  containerId: string,
  attributes: Readonly<Record<string, string>>,
  host: HostFacts,
): Promise<ContainerDescription> {
  const users = await host.users.resolve({ names: [], uids: [] });
  return describeFromEventAttributes(containerId, attributes, {
    users,
    pathOwners: new Map(),
    defaultRuntime: host.defaultRuntime,
  });
}
