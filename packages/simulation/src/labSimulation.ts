import { createHash } from 'node:crypto';
import {
  ContainerCreated,
  ContainerDescribed,
  ContainerIdle,
  ContainerRemoved,
  ContainerStarted,
  ContainerStopped,
  containerStream,
  GpuAllocated,
  GpuAllocationDenied,
  GpuInventoryObserved,
  GpuPoolInventoryRecorded,
  GpuReleased,
  GpuUsageWindowRecorded,
  gpuInventoryStream,
  gpuPoolStream,
  gpuUsageStream,
  UserDeparted,
  UserRegistered,
  userStream,
} from '@ds01/domain';
import { eventIdFor, type NewEvent } from '@ds01/event-store';

export interface SimulationOptions {
  users: number;
  days: number;
  seed: number;
  /** First day of the history (UTC midnight); default: `days` before today. */
  start: Date;
  host: string;
  /** Minutes per usage window (5: what the samplers record). */
  windowMinutes?: number;
}

/** A batch of events for one stream, in log order. */
export interface SimulatedAppend {
  stream: string;
  events: NewEvent[];
}

const GPUS = 4;
const SLICES = 7;
const MIG_PROFILE = '1g.10gb';
const SLICE_EQ = 1 / SLICES;
/** An A100's draw: idle and busy, shared by its 7 slices by activity. */
const IDLE_WATTS = 60;
const BUSY_WATTS = 400;
const DAY_MS = 86_400_000;
const WINDOWS_PER_APPEND = 1000;
const IDLE_TIMEOUT_MS = 30 * 60_000;

type SessionKind = 'training' | 'notebook' | 'forgotten';

interface Session {
  user: string;
  containerId: string;
  name: string;
  slot: string | null;
  kind: SessionKind;
  startMs: number;
  endMs: number;
  /** When a forgotten container went idle (it is retired an hour later). */
  idleFromMs: number;
}

/**
 * A year (or any span) of a lab like the reference site: 4 A100s split into 28 MIG slices, `users`
 * students, researchers and faculty who start containers through the semester's rhythm (busy in
 * term, quiet in the breaks and at weekends, a rush before the end of term), training runs that keep
 * a slice busy, notebooks mostly idle, containers forgotten until they are retired for idleness,
 * requests denied when every slice is taken, and students who leave at the end of a semester.
 * A usage window for every slice every 5 minutes, so a year is about 3 million events for 200 users.
 * Deterministic for a seed: the same options give the same events (with the same ids).
 */
export function* simulateLab(options: SimulationOptions): Generator<SimulatedAppend> {
  const random = mulberry32(options.seed);
  const windowMs = (options.windowMinutes ?? 5) * 60_000;
  const startMs = Math.floor(options.start.getTime() / DAY_MS) * DAY_MS;
  const endMs = startMs + options.days * DAY_MS;
  const host = options.host;
  let sequence = 0;
  const event = (e: { type: string; data: unknown }, atMs: number, identity: string): NewEvent => ({
    ...e,
    metadata: {
      eventId: eventIdFor(atMs, `sim:${options.seed}:${identity}`),
      occurredAt: new Date(atMs).toISOString(),
      actor: { kind: 'service', name: 'simulator' },
      host,
      correlationId: `sim-${options.seed}-${sequence++}`,
      causationId: null,
    },
  });
  const iso = (ms: number) => new Date(ms).toISOString();

  // The host's GPUs and pool.
  const slots = Array.from({ length: GPUS * SLICES }, (_, i) => ({
    slot: `${Math.floor(i / SLICES)}.${i % SLICES}`,
    gpuIndex: Math.floor(i / SLICES),
    deviceId: `MIG-${uuidOf(`sim-mig-${i}`)}`,
  }));
  yield {
    stream: gpuInventoryStream(host),
    events: [
      event(
        GpuInventoryObserved({
          inventory: {
            source: 'simulated',
            gpus: Array.from({ length: GPUS }, (_, g) => ({
              index: g,
              uuid: `GPU-${uuidOf(`sim-gpu-${g}`)}`,
              name: 'NVIDIA A100-SXM4-80GB',
              memoryMiB: 81920,
              migEnabled: true,
              migSlots: slots
                .filter((s) => s.gpuIndex === g)
                .map((s, d) => ({
                  slot: s.slot,
                  gpuIndex: g,
                  migDevice: d,
                  profile: MIG_PROFILE,
                  uuid: s.deviceId,
                  gpuInstanceId: 7 + d,
                  computeInstanceId: 0,
                  memoryMiB: 9856,
                })),
            })),
          },
          at: iso(startMs),
        }),
        startMs,
        'inventory',
      ),
    ],
  };
  yield {
    stream: gpuPoolStream(host),
    events: [
      event(
        GpuPoolInventoryRecorded({
          slots: slots.map((s) => ({ ...s, profile: MIG_PROFILE, gpuEquivalents: SLICE_EQ })),
          at: iso(startMs),
        }),
        startMs,
        'pool',
      ),
    ],
  };

  // The people: registered over the first two weeks (a short history: its first tenth).
  const registrationMs = Math.min(14, Math.max(0.25, options.days / 10)) * DAY_MS;
  const people = Array.from({ length: options.users }, (_, i) => {
    const r = random();
    const group = r < 0.7 ? 'student' : r < 0.9 ? 'researcher' : 'faculty';
    return {
      user: `${group === 'student' ? 's' : group === 'researcher' ? 'r' : 'f'}${String(i).padStart(4, '0')}`,
      group,
      uid: 20_000 + i,
      /** How often they come, on a busy term day. */
      appetite: 0.05 + random() * (group === 'student' ? 0.35 : 0.6),
      registeredMs: startMs + Math.floor(random() * registrationMs),
      departedMs: Number.POSITIVE_INFINITY,
    };
  });
  for (const p of people.slice().sort((a, b) => a.registeredMs - b.registeredMs)) {
    yield {
      stream: userStream(p.user),
      events: [
        event(UserRegistered({ user: p.user, uid: p.uid, group: p.group }), p.registeredMs, `reg:${p.user}`),
      ],
    };
  }

  const free = new Set(slots.map((s) => s.slot));
  const sessions: Session[] = [];
  let windows: NewEvent[] = [];
  let windowStream = '';
  const flushWindows = function* (): Generator<SimulatedAppend> {
    if (windows.length > 0) yield { stream: windowStream, events: windows };
    windows = [];
  };

  for (let day = startMs; day < endMs; day += DAY_MS) {
    const rhythm = semesterRhythm(new Date(day));
    // Who leaves: some students at the end of each term.
    if (isTermEnd(new Date(day))) {
      for (const p of people) {
        if (
          p.group === 'student' &&
          p.departedMs === Number.POSITIVE_INFINITY &&
          p.registeredMs < day &&
          random() < 0.12
        ) {
          p.departedMs = day + 12 * 3_600_000;
          yield {
            stream: userStream(p.user),
            events: [
              event(
                UserDeparted({ user: p.user, reason: 'end of studies' }),
                p.departedMs,
                `dep:${p.user}:${day}`,
              ),
            ],
          };
        }
      }
    }
    // Who comes today, and when.
    const starts: { at: number; person: (typeof people)[number] }[] = [];
    for (const p of people) {
      if (p.registeredMs > day || p.departedMs < day + DAY_MS) continue;
      if (random() < p.appetite * rhythm) {
        const hour = 8 + random() * 12;
        starts.push({ at: day + Math.floor((hour * 3_600_000) / windowMs) * windowMs, person: p });
      }
    }
    starts.sort((a, b) => a.at - b.at);

    for (let tick = day; tick < day + DAY_MS; tick += windowMs) {
      // Sessions that end in this window: stopped, released, removed.
      for (let i = sessions.length - 1; i >= 0; i--) {
        const s = sessions[i]!;
        if (s.endMs > tick) continue;
        sessions.splice(i, 1);
        yield* endSession(s, tick);
      }
      // Sessions that start.
      while (starts.length > 0 && starts[0]!.at <= tick) {
        const { person } = starts.shift()!;
        yield* startSession(person.user, person.group, tick);
      }
      // Forgotten containers found idle after half an hour (the idle timeout), retired half an hour later.
      for (const s of sessions) {
        const seenIdle = s.idleFromMs + IDLE_TIMEOUT_MS;
        if (s.kind === 'forgotten' && seenIdle >= tick && seenIdle < tick + windowMs) {
          yield {
            stream: containerStream(s.containerId),
            events: [
              event(
                ContainerIdle({ containerId: s.containerId, idleSince: iso(s.idleFromMs) }),
                seenIdle,
                `idle:${s.containerId}`,
              ),
            ],
          };
        }
      }
      // The window of every slice.
      const stream = gpuUsageStream(host, new Date(tick));
      if (stream !== windowStream) {
        yield* flushWindows();
        windowStream = stream;
      }
      const holders = new Map(sessions.filter((s) => s.slot).map((s) => [s.slot!, s]));
      for (const s of slots) {
        const session = holders.get(s.slot);
        const activity = session ? activityOf(session, tick, random) : 0;
        const watts = IDLE_WATTS / SLICES + (activity * (BUSY_WATTS - IDLE_WATTS)) / SLICES;
        windows.push(
          event(
            GpuUsageWindowRecorded({
              host,
              windowStart: iso(tick),
              windowEnd: iso(tick + windowMs),
              device: { gpuIndex: s.gpuIndex, slot: s.slot, uuid: s.deviceId, migProfile: MIG_PROFILE },
              holder: session
                ? { containerId: session.containerId, user: session.user }
                : { containerId: null, user: null },
              samples: 10,
              gpuUtilization: null,
              grEngineActive: { mean: activity, max: Math.min(1, activity * 1.2) },
              smActive: { mean: activity * 0.8 },
              dramActive: null,
              memoryUsedMaxBytes: session ? 2e9 + activity * 7e9 : 0,
              powerMeanWatts: watts,
              energyJoules: watts * (windowMs / 1000),
              processes: [],
            }),
            tick + windowMs,
            `win:${s.slot}:${tick}`,
          ),
        );
        if (windows.length >= WINDOWS_PER_APPEND) yield* flushWindows();
      }
    }
  }
  yield* flushWindows();

  function* startSession(user: string, group: string, at: number): Generator<SimulatedAppend> {
    const n = sequence;
    const containerId = createHash('sha256').update(`sim:${options.seed}:container:${n}`).digest('hex');
    const r = random();
    const kind: SessionKind = r < 0.45 ? 'training' : r < 0.85 ? 'notebook' : 'forgotten';
    const hours =
      kind === 'training' ? 2 + random() * 22 : kind === 'notebook' ? 1 + random() * 7 : 6 + random() * 30;
    const idleFromMs =
      kind === 'forgotten' ? at + Math.floor((1 + random() * 3) * 3_600_000) : Number.POSITIVE_INFINITY;
    const endMs = kind === 'forgotten' ? idleFromMs + 3_600_000 : at + Math.floor(hours * 3_600_000);
    const name = `${kind}-${n}._.${user}`;
    const slot = [...free][Math.floor(random() * free.size)];
    const device = slot === undefined ? undefined : slots.find((x) => x.slot === slot);
    const ref = { containerId, name, observation: 'observed' as const, dockerEvent: null };
    const stream = containerStream(containerId);
    yield {
      stream,
      events: [
        event(
          ContainerCreated({
            ...ref,
            image: 'ds01/pytorch:latest',
            labels: { 'ds01.managed': 'true', 'ds01.user': user },
          }),
          at,
          `c:${containerId}`,
        ),
        event(
          ContainerDescribed({
            ...ref,
            describedFrom: 'inspect',
            image: 'ds01/pytorch:latest',
            imageId: 'sha256:simulated',
            createdAt: iso(at),
            owner: { user, rule: 'ds01_label', evidence: `ds01.user=${user}` },
            interface: 'atomic',
            type: 'atomic',
            managed: true,
            infrastructure: false,
            gpu: device
              ? { access: 'specific', devices: [device.deviceId], via: 'device_request' }
              : { access: 'none' },
            cgroupParent: `ds01-${group}-${user}.slice`,
            limits: null,
            labels: { 'ds01.managed': 'true', 'ds01.user': user },
          }),
          at,
          `d:${containerId}`,
        ),
        event(ContainerStarted({ ...ref, startedAt: iso(at) }), at, `s:${containerId}`),
      ],
    };
    if (slot === undefined || device === undefined) {
      yield {
        stream: gpuPoolStream(host),
        events: [
          event(
            GpuAllocationDenied({
              requestId: `sim-${n}`,
              user,
              containerId,
              request: { count: 1, profile: MIG_PROFILE },
              reason: { code: 'no_free_slot', requested: 1, free: 0 },
              message: `no free ${MIG_PROFILE} slot: all ${slots.length} are held; try again later or ask for a smaller profile`,
              at: iso(at),
            }),
            at,
            `deny:${containerId}`,
          ),
        ],
      };
    } else {
      free.delete(slot);
      const s = device;
      yield {
        stream: gpuPoolStream(host),
        events: [
          event(
            GpuAllocated({
              requestId: `sim-${n}`,
              slot,
              gpuIndex: s.gpuIndex,
              profile: MIG_PROFILE,
              gpuEquivalents: SLICE_EQ,
              deviceId: s.deviceId,
              user,
              containerId,
              observation: 'observed',
              since: iso(at),
            }),
            at,
            `alloc:${containerId}`,
          ),
        ],
      };
    }
    sessions.push({ user, containerId, name, slot: slot ?? null, kind, startMs: at, endMs, idleFromMs });
  }

  function* endSession(s: Session, at: number): Generator<SimulatedAppend> {
    const ref = {
      containerId: s.containerId,
      name: s.name,
      observation: 'observed' as const,
      dockerEvent: null,
    };
    const retired = s.kind === 'forgotten';
    yield {
      stream: containerStream(s.containerId),
      events: [
        event(
          ContainerStopped({ ...ref, exitCode: retired ? 143 : 0, oomKilled: false, finishedAt: iso(at) }),
          at,
          `stop:${s.containerId}`,
        ),
      ],
    };
    if (s.slot) {
      free.add(s.slot);
      yield {
        stream: gpuPoolStream(host),
        events: [
          event(
            GpuReleased({
              slot: s.slot,
              user: s.user,
              containerId: s.containerId,
              reason: retired ? 'container_removed' : 'requested',
              at: iso(at),
            }),
            at,
            `rel:${s.containerId}`,
          ),
        ],
      };
    }
    yield {
      stream: containerStream(s.containerId),
      events: [event(ContainerRemoved({ ...ref }), at, `rm:${s.containerId}`)],
    };
  }
}

/** How busy a held slice is in a window: training runs hard, notebooks in bursts, forgotten ones not at all. */
function activityOf(session: Session, tick: number, random: () => number): number {
  if (session.kind === 'training') return Math.min(1, 0.55 + random() * 0.4);
  if (session.kind === 'notebook') return random() < 0.15 ? 0.3 + random() * 0.5 : random() * 0.03;
  return tick < session.idleFromMs ? 0.2 + random() * 0.5 : 0;
}

/**
 * How much of the lab comes on a day: terms from mid-February to June and September to mid-December
 * (a rush in their last weeks), breaks at a quarter, weekends at a third.
 */
export function semesterRhythm(day: Date): number {
  const month = day.getUTCMonth();
  const date = day.getUTCDate();
  const inTerm =
    (month >= 1 && month <= 5 && !(month === 1 && date < 15)) ||
    (month >= 8 && month <= 11 && !(month === 11 && date > 18));
  const rush = (month === 5 && date >= 10) || (month === 11 && date >= 1 && date <= 18);
  const weekday = day.getUTCDay() >= 1 && day.getUTCDay() <= 5;
  return (inTerm ? (rush ? 1.4 : 1) : 0.25) * (weekday ? 1 : 0.35);
}

function isTermEnd(day: Date): boolean {
  return (
    (day.getUTCMonth() === 6 && day.getUTCDate() === 1) ||
    (day.getUTCMonth() === 11 && day.getUTCDate() === 20)
  );
}

/** A small fast PRNG (mulberry32): the same seed, the same history. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function uuidOf(text: string): string {
  const h = createHash('sha256').update(text).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}
