/** A path segment that is a Docker container's cgroup: `<id>`, `docker-<id>.scope` (systemd driver). */
const CONTAINER_SEGMENT = /^(?:docker-)?([0-9a-f]{64})(?:\.scope)?$/;

/**
 * The Docker container a process runs in, from its /proc/<pid>/cgroup, or null when it runs on the
 * host. Every form Docker writes: cgroup v1 `4:memory:/docker/<id>`, v2 `0::/system.slice/docker-<id>.scope`,
 * a `--cgroup-parent` slice (ds01's `/ds01.slice/ds01-student.slice/ds01-student-alice.slice/docker-<id>.scope`,
 * or `/ds01-student-alice.slice/<id>` with the cgroupfs driver). The innermost container wins (a
 * container in a container is the inner one's).
 */
export function containerIdOfCgroup(text: string): string | null {
  let found: string | null = null;
  for (const line of text.split('\n')) {
    // hierarchy-ID:controller-list:cgroup-path; the path may itself hold colons.
    const path = line.split(':').slice(2).join(':');
    if (!path) continue;
    for (const segment of path.split('/')) {
      const match = CONTAINER_SEGMENT.exec(segment);
      if (match) found = match[1]!;
    }
    if (found) return found;
  }
  return found;
}
