import { z } from 'zod';
import { defineEvent } from '../events/defineEvent.ts';
import { Instant, UserName } from '../values.ts';

/**
 * Users' own images: `ds01-<user>/<name>[:tag]`, built through their gateway socket (which allows
 * no other tag) and recorded by the gateway, so a user's images are known from the log like their
 * containers. One stream per host: images live in that host's dockerd.
 */
export const imagesStream = (host: string) => `images-${host}`;

/** The namespace of a user's images: `ds01-alice/`. */
export const userImageNamespace = (user: string) => `ds01-${user}/`;

/** A user's image name (`thesis` → `ds01-alice/thesis:latest`); a tag given is kept. */
export function userImageRef(user: string, name: string): string {
  const full = name.startsWith(userImageNamespace(user)) ? name : `${userImageNamespace(user)}${name}`;
  return /:[\w][\w.-]{0,127}$/.test(full.slice(full.lastIndexOf('/'))) ? full : `${full}:latest`;
}

/**
 * Why `ref` is not an image name in `user`'s namespace (undefined when it is): Docker's reference
 * grammar for the path (lowercase, `.`, `_`, `-` separators) and an optional tag.
 */
export function userImageRefProblem(user: string, ref: string): string | undefined {
  const namespace = userImageNamespace(user);
  if (!ref.startsWith(namespace))
    return `${JSON.stringify(ref)} is not in your namespace: your images are ${namespace}<name>`;
  const rest = ref.slice(namespace.length);
  if (!/^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?::[\w][\w.-]{0,127})?$/.test(rest))
    return `${JSON.stringify(ref)}: an image name is lowercase letters, digits, '.', '_' and '-', with an optional :tag`;
  return undefined;
}

/**
 * Why `user` may not pull `fromImage` (undefined when they may): a pull tags what it fetches under the
 * name asked for, so a pull of `ds01-bob/...` (from Docker Hub, where anyone can publish that name)
 * would put an image in bob's namespace that bob never built. Another registry's names
 * (`host:5000/ds01-bob/x`) are other names on this host and are not in anyone's namespace.
 */
export function pullNamespaceProblem(user: string, fromImage: string): string | undefined {
  const local = fromImage.replace(/^(?:docker\.io|index\.docker\.io|registry-1\.docker\.io)\//, '');
  if (!local.startsWith('ds01-') || local.startsWith(userImageNamespace(user))) return undefined;
  const owner = local.slice(0, local.indexOf('/') === -1 ? undefined : local.indexOf('/'));
  return `${JSON.stringify(fromImage)} would be tagged in ${owner}'s namespace: your images are ${userImageNamespace(user)}<name>`;
}

export const ImageBuilt = defineEvent({
  type: 'ImageBuilt',
  schema: z.strictObject({
    user: UserName,
    /** The tag built (`ds01-alice/thesis:latest`). */
    image: z.string().min(1),
    /** The image id dockerd gave it (sha256:...). */
    imageId: z.string().min(1),
    sizeBytes: z.number().int().nonnegative(),
    at: Instant,
  }),
});

export const ImageRemoved = defineEvent({
  type: 'ImageRemoved',
  schema: z.strictObject({
    user: UserName,
    image: z.string().min(1),
    /** Removed by its owner (`ds01 image rm`), or by the gateway: built over images.max_size_gb. */
    reason: z.enum(['removed', 'over_size_limit']),
    /** For over_size_limit: the size and the limit. */
    sizeBytes: z.number().int().nonnegative().optional(),
    limitBytes: z.number().int().nonnegative().optional(),
    at: Instant,
  }),
});

export const imageEvents = [ImageBuilt, ImageRemoved] as const;
