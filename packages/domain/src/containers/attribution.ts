import { z } from 'zod';
import { type ContainerInspect, containerName } from './inspect.ts';
import { Label, readDs01Labels, ToolLabel } from './labels.ts';
import { sanitiseUsername, sliceOwner } from './userSlices.ts';

/**
 * Who a container belongs to, and which rule said so.
 *
 * Verified or claimed. An owner is *verified* only when it comes from something the container's
 * creator cannot write: the per-user gateway socket the create came through (`gateway`: the kernel
 * says who connected, SO_PEERCRED). Every other rule reads what the creator wrote themselves —
 * labels, paths, names, mounts, the cgroup parent, the uid the container runs as (`docker run
 * --user 1018` picks bob's uid, and so does the container's init process in /proc, which runs as
 * whatever --user said) — so it is a *claim*, recorded with its rule and `verified: false`. A claim
 * is never enough to charge a user's quota or stop another user's work without an admin's
 * confirmation (ownership.ts says so to lifecycle and allocation).
 *
 *   gateway         created through the user's gateway socket (verified): not read from the
 *                   container but from the gateway's ContainerCreateAuthorized (gatewayOwner)
 *
 * The claim rules run in ds01-infra's order, with its names for them (container-owner-tracker.py
 * `detection_method`) so that its containers read the same:
 *
 *   ds01_label      label `ds01.user`
 *   aime_label      a legacy owner label (`aime.mlc.USER`, `aime.mlc`, `aime.mlc.username`)
 *   devcontainer    `/home/<user>/...` in label `devcontainer.local_folder`
 *   compose_dir     `/home/<user>/...` in label `com.docker.compose.project.working_dir`
 *   cgroup_slice    cgroup parent `ds01-<group>-<sanitised user>.slice` (or `user-<uid>.slice`)
 *   container_name  the uid in a `<name>._.<uid>` name (ds01-infra/AIME containers)
 * and, beyond ds01-infra:
 *   mount_path      a bind-mounted `/home/<user>/...` that the user really owns
 *   container_uid   the numeric uid the container runs as (`--user 1001:1001`)
 *   unknown         none of the above: said plainly, never guessed
 *
 * Names read from paths, slices, container names and uids count only when they resolve to a real
 * account on the host, as ds01-infra's tracker checks; a path names its user only when that user
 * owns it (`/home/bob/x` that alice made names nobody).
 */
export const OwnerRule = z.enum([
  'gateway',
  'ds01_label',
  'aime_label',
  'devcontainer',
  'compose_dir',
  'cgroup_slice',
  'container_name',
  'mount_path',
  'container_uid',
  'unknown',
]);
export type OwnerRule = z.infer<typeof OwnerRule>;

export const Attribution = z.strictObject({
  /** The owner's username as the lab writes it (with `@domain` when it has one); null: unknown. */
  user: z.string().min(1).nullable(),
  rule: OwnerRule,
  /** What the rule read, for people: `ds01.user=alice`, `cgroup parent ds01-student-alice.slice`. */
  evidence: z.string(),
  /**
   * True only for an owner the creator could not write (the gateway); false: a claim. Absent on
   * descriptions recorded before 2026-12, which were all claims.
   */
  verified: z.boolean().optional(),
});
export type Attribution = z.infer<typeof Attribution>;

export interface HostUser {
  name: string;
  uid: number;
}

/** The host's accounts, as a snapshot the host layer took (passwd, LDAP through getent, config). */
export interface UserDirectory {
  byName(name: string): HostUser | undefined;
  byUid(uid: number): HostUser | undefined;
  /** Every account whose ds01-infra sanitised name is this one (more than one: ambiguous). */
  bySanitisedName(sanitised: string): readonly HostUser[];
}

/**
 * The verified owner of a container created through the gateway, from its ContainerCreateAuthorized
 * (on the container's own stream): the account the kernel says connected to the socket. The
 * containers' fold (containerState.ts) sets it beside the watcher's description, whichever reached
 * the log first: the gateway appends after dockerd answered, while Docker's create event may already
 * be described. Through the admin socket (no user) nobody in particular is verified: the claims stand.
 */
export function gatewayOwner(authorization: {
  user: string | null;
  socket: { path: string };
}): Attribution | null {
  if (authorization.user === null) return null;
  return {
    user: authorization.user,
    rule: 'gateway',
    evidence: `created through ${authorization.socket.path}`,
    verified: true,
  };
}

/** Facts about the host that attribution reads, gathered by the host layer. */
export interface AttributionFacts {
  users: UserDirectory;
  /**
   * For each path a rule reads under /home (bind-mount sources, the compose and dev container
   * folders): the uid owning it (or its closest existing parent).
   */
  pathOwners: ReadonlyMap<string, number>;
}

type Rule = (inspect: ContainerInspect, facts: AttributionFacts) => Attribution | undefined;

const ownerLabel: Rule = (inspect) => {
  const labels = readDs01Labels(inspect.Config.Labels);
  const user = labels.values[Label.user];
  if (!user) return undefined;
  const legacy = labels.fromLegacy[Label.user];
  return legacy
    ? { user, rule: 'aime_label', evidence: `${legacy}=${user}` }
    : { user, rule: 'ds01_label', evidence: `${Label.user}=${user}` };
};

/** `/home/<user>/...` → user, when the account exists. */
function homeOwner(path: string | undefined, facts: AttributionFacts): string | undefined {
  if (!path?.startsWith('/home/')) return undefined;
  const name = path.split('/')[2];
  if (!name) return undefined;
  return facts.users.byName(name)?.name;
}

/** `/home/<user>/...` → user, when the account exists and owns the path (a label anyone can write). */
function ownedHomePath(path: string | undefined, facts: AttributionFacts): HostUser | undefined {
  const name = homeOwner(path, facts);
  const user = name === undefined ? undefined : facts.users.byName(name);
  return user && path !== undefined && facts.pathOwners.get(path) === user.uid ? user : undefined;
}

const pathLabel =
  (label: string, rule: OwnerRule): Rule =>
  (inspect, facts) => {
    const path = inspect.Config.Labels[label];
    const user = ownedHomePath(path, facts);
    return user ? { user: user.name, rule, evidence: `${label}=${path}` } : undefined;
  };

const cgroupSlice: Rule = (inspect, facts) => {
  const parent = inspect.HostConfig.CgroupParent ?? '';
  const owner = sliceOwner(parent);
  if (!owner) return undefined;
  let user: HostUser | undefined;
  if (owner.kind === 'uid') {
    user = facts.users.byUid(owner.uid);
  } else {
    const matches = facts.users.bySanitisedName(owner.sanitised);
    user = matches.length === 1 ? matches[0] : undefined;
  }
  return user ? { user: user.name, rule: 'cgroup_slice', evidence: `cgroup parent ${parent}` } : undefined;
};

const nameUid: Rule = (inspect, facts) => {
  const name = containerName(inspect);
  if (!name.includes('._.')) return undefined;
  const uid = name.split('._.').at(-1)!;
  if (!/^\d+$/.test(uid)) return undefined;
  const user = facts.users.byUid(Number(uid));
  return user
    ? { user: user.name, rule: 'container_name', evidence: `name ${name} (uid ${uid})` }
    : undefined;
};

/** Sources of the container's bind mounts (`-v /src:/dst` and `--mount type=bind`), in order. */
export function bindSources(inspect: ContainerInspect): string[] {
  const fromBinds = inspect.HostConfig.Binds.map((bind) => bind.split(':')[0]!);
  const fromMounts = inspect.Mounts.filter((m) => m.Type === 'bind' && m.Source).map((m) => m.Source!);
  return [...new Set([...fromBinds, ...fromMounts])];
}

const mountPath: Rule = (inspect, facts) => {
  for (const source of bindSources(inspect)) {
    // Mounting /home/bob/x that alice made does not make a container Bob's: he must own it. (Even
    // then it is a claim: anyone may mount what Bob lets them read.)
    const user = ownedHomePath(source, facts);
    if (user) {
      return {
        user: user.name,
        rule: 'mount_path',
        evidence: `bind mount ${source} owned by uid ${user.uid}`,
      };
    }
  }
  return undefined;
};

const containerUid: Rule = (inspect, facts) => {
  // Only a numeric uid means the same account inside and outside; a name is the image's own passwd.
  const uid = /^(\d+)(:|$)/.exec(inspect.Config.User ?? '')?.[1];
  if (uid === undefined || uid === '0') return undefined;
  const user = facts.users.byUid(Number(uid));
  return user ? { user: user.name, rule: 'container_uid', evidence: `runs as uid ${uid}` } : undefined;
};

const RULES: readonly Rule[] = [
  ownerLabel,
  pathLabel(ToolLabel.devcontainerLocalFolder, 'devcontainer'),
  pathLabel(ToolLabel.composeWorkingDir, 'compose_dir'),
  cgroupSlice,
  nameUid,
  mountPath,
  containerUid,
];

/**
 * The claim of the first rule that names an owner; none: `unknown`. Never verified: what Docker says
 * of a container its creator wrote (the verified owner comes from the gateway: gatewayOwner).
 */
export function attributeOwner(inspect: ContainerInspect, facts: AttributionFacts): Attribution {
  for (const rule of RULES) {
    const attribution = rule(inspect, facts);
    if (attribution) return { ...attribution, verified: false };
  }
  return {
    user: null,
    rule: 'unknown',
    evidence: 'no owner label, /home path, user slice, ._.<uid> name, owned home mount or user uid',
    verified: false,
  };
}

/** The paths under /home whose owners attribution compares (the host layer stats exactly these). */
export function ownerPaths(inspect: ContainerInspect): string[] {
  const labels = inspect.Config.Labels;
  const paths = [
    labels[ToolLabel.devcontainerLocalFolder],
    labels[ToolLabel.composeWorkingDir],
    ...bindSources(inspect),
  ];
  return [...new Set(paths.filter((p): p is string => p?.startsWith('/home/') === true))];
}

/** Names and uids attribution may ask the directory about: the host layer resolves exactly these. */
export function ownerCandidates(inspect: ContainerInspect): {
  names: string[];
  uids: number[];
  sanitisedNames: string[];
} {
  const names = new Set<string>();
  const sanitisedNames: string[] = [];
  const uids = new Set<number>();
  const labels = inspect.Config.Labels;
  for (const path of [
    labels[ToolLabel.devcontainerLocalFolder],
    labels[ToolLabel.composeWorkingDir],
    ...bindSources(inspect),
  ]) {
    const home = path?.startsWith('/home/') ? path.split('/')[2] : undefined;
    if (home) names.add(home);
  }
  const slice = sliceOwner(inspect.HostConfig.CgroupParent ?? '');
  if (slice?.kind === 'uid') uids.add(slice.uid);
  if (slice?.kind === 'sanitised') sanitisedNames.push(slice.sanitised);
  const name = containerName(inspect);
  const nameUidPart = name.includes('._.') ? name.split('._.').at(-1)! : '';
  if (/^\d+$/.test(nameUidPart)) uids.add(Number(nameUidPart));
  const runAs = /^(\d+)(:|$)/.exec(inspect.Config.User ?? '')?.[1];
  if (runAs !== undefined) uids.add(Number(runAs));
  return { names: [...names], uids: [...uids], sanitisedNames };
}

/** A directory over a fixed list of accounts (the host layer's snapshot, and tests). */
export function userDirectoryOf(users: Iterable<HostUser>): UserDirectory {
  const byName = new Map<string, HostUser>();
  const byUid = new Map<number, HostUser>();
  const bySanitised = new Map<string, HostUser[]>();
  for (const user of users) {
    if (byName.has(user.name)) continue;
    byName.set(user.name, user);
    if (!byUid.has(user.uid)) byUid.set(user.uid, user);
    const key = sanitiseUsername(user.name);
    bySanitised.set(key, [...(bySanitised.get(key) ?? []), user]);
  }
  return {
    byName: (name) => byName.get(name),
    byUid: (uid) => byUid.get(uid),
    bySanitisedName: (sanitised) => bySanitised.get(sanitised) ?? [],
  };
}
