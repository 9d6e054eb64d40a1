import { readFileSync } from 'node:fs';
import { ContainerInspect, type ContainerInspectInput } from '@ds01/domain';

/** Real `docker inspect` output (fixtures/SOURCES.md), with the fields a test case is about changed. */
const load = (file: string) =>
  JSON.parse(readFileSync(new URL(`./fixtures/${file}`, import.meta.url), 'utf8')) as ContainerInspectInput;

export const plainInspect = load('inspect-plain.json');
export const exitedInspect = load('inspect-exited.json');

export interface InspectChanges {
  id?: string;
  name?: string;
  labels?: Record<string, string>;
  user?: string;
  env?: string[];
  state?: Partial<ContainerInspectInput['State']>;
  hostConfig?: Record<string, unknown>;
  mounts?: ContainerInspectInput['Mounts'];
}

export function inspectWith(
  changes: InspectChanges = {},
  base: ContainerInspectInput = plainInspect,
): ContainerInspect {
  return ContainerInspect.parse({
    ...base,
    Id: changes.id ?? base.Id,
    Name: changes.name === undefined ? base.Name : `/${changes.name}`,
    State: { ...base.State, ...changes.state },
    Config: {
      ...base.Config,
      Labels: changes.labels ?? base.Config.Labels,
      User: changes.user ?? base.Config.User,
      Env: changes.env ?? base.Config.Env,
    },
    HostConfig: { ...base.HostConfig, ...changes.hostConfig },
    Mounts: changes.mounts ?? base.Mounts,
  });
}
