import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_LIFECYCLE_CONFIG } from '@ds01/config';
import {
  ContainerCreateAuthorized,
  ContainerDescribed,
  evolveLifecycle,
  initialLifecycleState,
  type LifecycleEvent,
} from '@ds01/domain';
import { describe, expect, it } from 'vitest';
import { policyFactsOf, policyFromConfigDir } from '../src/index.ts';

const ID = 'a'.repeat(64);
const NOW = new Date('2026-03-02T09:00:00Z');

/** researchers idle out after 10 h, students after 1 h. */
function policies() {
  const dir = mkdtempSync(join(tmpdir(), 'ds01-policy-facts-'));
  writeFileSync(
    join(dir, 'resource-limits.yaml'),
    `
defaults: { idle_timeout_h: 0.5, max_runtime_h: 24 }
default_group: student
groups:
  researcher: { members: [alice], idle_timeout_h: 10 }
  student: { members: [bob], idle_timeout_h: 1 }
`,
  );
  return policyFromConfigDir(dir, DEFAULT_LIFECYCLE_CONFIG);
}

// A container DS01 made (its owner's limits apply), its label claiming alice, the researcher.
const claimedByAlice = ContainerDescribed({
  containerId: ID,
  name: 'train',
  observation: 'observed',
  dockerEvent: null,
  describedFrom: 'inspect',
  image: 'busybox',
  imageId: 'sha256:1',
  createdAt: '2026-03-02T08:00:00.000Z',
  owner: { user: 'alice', rule: 'ds01_label', evidence: 'ds01.user=alice' },
  interface: 'atomic',
  type: 'atomic',
  managed: true,
  infrastructure: false,
  gpu: { access: 'none' },
  cgroupParent: null,
  limits: null,
  labels: { 'ds01.user': 'alice' },
});
const throughBobsSocket = ContainerCreateAuthorized({
  containerId: ID,
  user: 'bob',
  socket: { kind: 'user', user: 'bob', path: '/run/ds01/users/bob/docker.sock' },
  interface: 'docker',
  name: 'train',
  rewritten: [],
  devices: [],
});

const idleMinutesAfter = (events: LifecycleEvent[]) => {
  const state = events.reduce((s, e) => evolveLifecycle(s, e), initialLifecycleState(ID));
  return policies().policyFor(policyFactsOf(state), NOW).idleTimeoutMinutes;
};

describe("a container's lifecycle rules follow its verified owner's group", () => {
  it.each([
    ['authorized first', [throughBobsSocket, claimedByAlice]],
    ['described first', [claimedByAlice, throughBobsSocket]],
  ])("created through bob's socket (%s): bob's student idle timeout, not alice's", (_order, events) => {
    expect(idleMinutesAfter(events)).toBe(60);
  });

  it('with no verified owner (an admin-socket or raw create) the claim picks the group', () => {
    const byAdmin = ContainerCreateAuthorized({
      ...throughBobsSocket.data,
      user: null,
      socket: { kind: 'admin', path: '/run/ds01/admin.sock' },
    });
    expect(idleMinutesAfter([claimedByAlice])).toBe(600);
    expect(idleMinutesAfter([byAdmin, claimedByAlice])).toBe(600);
  });
});
