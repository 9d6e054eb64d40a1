/**
 * ds01-infra's container names: `<name>._.<uid>` is the Docker name (mlc-patched.py), `<name>` what
 * the user types and sees. The uid makes a name unique per user, so alice and bob can both have
 * `thesis`, and it names the owner to every tool that reads ds01-infra's names.
 */
export const NAME_UID_SEPARATOR = '._.';

/** Docker's own rule for a container name (`[a-zA-Z0-9][a-zA-Z0-9_.-]+`), without the separator. */
const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/** The Docker name of a user's container `name`: `thesis` of uid 1001 is `thesis._.1001`. */
export function dockerNameOf(name: string, uid: number): string {
  return `${name}${NAME_UID_SEPARATOR}${uid}`;
}

/** What the user sees of a Docker name: the part before `._.` (the whole name when it has none). */
export function displayNameOf(dockerName: string): string {
  const name = dockerName.replace(/^\//, '');
  const at = name.lastIndexOf(NAME_UID_SEPARATOR);
  return at < 0 ? name : name.slice(0, at);
}

/** Why `name` cannot be a container name a user gives, or undefined when it can. */
export function containerNameProblem(name: string): string | undefined {
  if (name.includes(NAME_UID_SEPARATOR))
    return `'${name}' contains ${NAME_UID_SEPARATOR}, which DS01 adds itself (with your uid)`;
  if (!NAME.test(name))
    return `'${name}' is not a container name: letters, digits, '_', '.' and '-', starting with a letter or digit`;
  if (name.length > 200) return `'${name}' is longer than 200 characters`;
  return undefined;
}
