import { createHash } from 'node:crypto';

/**
 * Per-user cgroup slices, named as ds01-infra names them (scripts/lib/username_utils.py):
 * `ds01-<group>-<sanitised user>.slice`, where sanitising keeps systemd from reading a `-` as a level
 * of the slice hierarchy. DS01 must produce and read the very same names on a host ds01-infra ran.
 */

const MAX_SANITISED_LENGTH = 32;

/**
 * "h.baker@hertie-school.lan" → "h_baker": drop the domain, dots and every character systemd would
 * misread become "_", runs of "_" collapse, and names over 32 characters keep 27 plus "_" and the first
 * 4 hex digits of the md5 of the original name (so two long names do not collide).
 */
export function sanitiseUsername(username: string): string {
  if (!username) return username;
  let sanitised = username.split('@')[0]!;
  sanitised = sanitised.replaceAll('.', '_');
  sanitised = sanitised.replace(/[^a-zA-Z0-9_:]/g, '_');
  sanitised = sanitised.replace(/_+/g, '_');
  sanitised = sanitised.replace(/^_+|_+$/g, '');
  if (sanitised.length > MAX_SANITISED_LENGTH) {
    const hash = createHash('md5').update(username).digest('hex').slice(0, 4);
    sanitised = `${sanitised.slice(0, 27).replace(/_+$/, '')}_${hash}`;
  }
  return sanitised;
}

export function userSliceName(group: string, username: string): string {
  return `ds01-${group}-${sanitiseUsername(username)}.slice`;
}

export type SliceOwner =
  | { kind: 'sanitised'; group: string; sanitised: string }
  | { kind: 'uid'; uid: number };

/**
 * Who a cgroup parent names, if anyone: `ds01-<group>-<user>.slice` (ds01-infra's docker wrapper and
 * mlc create; the group is one word, ds01-infra's `ds01-(\w+)-(.+)\.slice`), possibly under a path such as
 * `ds01.slice/ds01-student.slice/...`, or `user-<uid>.slice` (ds01-infra's mlc-create-from-image writes
 * `ds01.slice/user-<uid>.slice`). Group slices (`ds01-student.slice`) name nobody.
 */
export function sliceOwner(cgroupParent: string): SliceOwner | undefined {
  const last = cgroupParent.split('/').filter(Boolean).at(-1) ?? '';
  const user = /^ds01-(\w+)-(.+)\.slice$/.exec(last);
  if (user) return { kind: 'sanitised', group: user[1]!, sanitised: user[2]! };
  const uid = /^user-(\d+)\.slice$/.exec(last);
  if (uid) return { kind: 'uid', uid: Number(uid[1]) };
  return undefined;
}
