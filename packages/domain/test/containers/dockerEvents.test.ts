import {
  type ContainerDescription,
  type DescribeFacts,
  type DockerContainerEvent,
  describeContainer,
  describeFromEventAttributes,
  descriptionEventsFor,
  domainEventsFor,
  eventCatalog,
  evolveContainerState,
  instantOfTimeNano,
  userDirectoryOf,
} from '@ds01/domain';
import { describe, expect, it } from 'vitest';
import { inspectWith } from './inspectFixture.ts';

const ID = 'a'.repeat(64);
const facts: DescribeFacts = {
  users: userDirectoryOf([{ name: 'alice', uid: 1001 }]),
  pathOwners: new Map(),
  defaultRuntime: 'runc',
};
const event = (action: string, attributes: Record<string, string> = {}, timeNano = '1764000000123456789') =>
  ({
    id: ID,
    action,
    timeNano,
    attributes: { name: 'box', image: 'busybox', ...attributes },
  }) as DockerContainerEvent;
const describeOf = (labels: Record<string, string>): ContainerDescription =>
  describeContainer(inspectWith({ id: ID, name: 'box', labels }), facts);

describe('Docker container event → domain events', () => {
  it.each<[string, DockerContainerEvent, string[]]>([
    ['start', event('start'), ['ContainerStarted']],
    ['die', event('die', { exitCode: '137' }), ['ContainerStopped']],
    ['restart', event('restart'), ['ContainerRestarted']],
    ['pause', event('pause'), ['ContainerPaused']],
    ['unpause', event('unpause'), ['ContainerUnpaused']],
    ['rename', event('rename', { oldName: '/old' }), ['ContainerRenamed']],
    ['health_status: unhealthy', event('health_status: unhealthy'), ['ContainerHealthChanged']],
    ['destroy', event('destroy'), ['ContainerRemoved']],
    ['kill (noise)', event('kill', { signal: '15' }), []],
    ['exec_start (noise)', event('exec_start: sh'), []],
    ['stop (the die carries it)', event('stop'), []],
  ])('%s', (_case, dockerEvent, types) => {
    expect(domainEventsFor(dockerEvent).map((p) => p.event.type)).toEqual(types);
  });

  it('create: ContainerCreated from the event alone (image, labels without Docker`s own keys)', () => {
    const planned = domainEventsFor(event('create', { 'ds01.user': 'alice', 'com.example': 'x' }));
    expect(planned.map((p) => p.event.type)).toEqual(['ContainerCreated']);
    expect(planned[0]!.event.data).toEqual({
      containerId: ID,
      name: 'box',
      observation: 'observed',
      dockerEvent: { id: ID, action: 'create', timeNano: '1764000000123456789' },
      image: 'busybox',
      labels: { 'ds01.user': 'alice', 'com.example': 'x' },
    });
  });

  it('oom: ContainerOutOfMemory', () => {
    expect(domainEventsFor(event('oom')).map((p) => p.event.type)).toEqual(['ContainerOutOfMemory']);
  });

  it('the description of an unmanaged container: ContainerDescribed and UnmanagedContainerDetected, ids of their own', () => {
    const create = event('create');
    const planned = descriptionEventsFor(create, describeOf({ 'ds01.user': 'alice' }), 'inspect');
    expect(planned.map((p) => p.event.type)).toEqual(['ContainerDescribed', 'UnmanagedContainerDetected']);
    const ids = [...planned, ...domainEventsFor(create)].map((p) => p.eventId);
    expect(new Set(ids).size).toBe(3);
    expect(planned.map((p) => p.occurredAt)).toEqual([
      instantOfTimeNano(create.timeNano),
      instantOfTimeNano(create.timeNano),
    ]);
    expect(planned[0]!.event.data).toMatchObject({
      describedFrom: 'inspect',
      owner: { user: 'alice', rule: 'ds01_label' },
      dockerEvent: { action: 'create' },
    });
    expect(planned[1]!.event.data).toMatchObject({
      owner: { user: 'alice', rule: 'ds01_label' },
      gpu: { access: 'none' },
    });
    expect(descriptionEventsFor(create, describeOf({ 'ds01.user': 'alice' }), 'inspect')).toEqual(planned);
  });

  it('the description of a managed or infrastructure container: no UnmanagedContainerDetected', () => {
    const managed = descriptionEventsFor(event('create'), describeOf({ 'ds01.managed': 'true' }), 'inspect');
    const infra = descriptionEventsFor(event('create'), describeOf({ 'ds01.protected': 'true' }), 'inspect');
    expect(managed.map((p) => p.event.type)).toEqual(['ContainerDescribed']);
    expect(infra.map((p) => p.event.type)).toEqual(['ContainerDescribed']);
  });

  it('an OOM kill since the last start makes the next stop an OOM kill; a new start clears it', () => {
    const fold = (...planned: ReturnType<typeof domainEventsFor>) =>
      planned.reduce<ReturnType<typeof evolveContainerState> | undefined>(
        (state, p) => evolveContainerState(state, p.event, p.occurredAt),
        undefined,
      );
    const [created] = domainEventsFor(event('create'));
    const [started] = domainEventsFor(event('start'));
    const [oom] = domainEventsFor(event('oom'));
    const [died] = domainEventsFor(event('die', { exitCode: '137' }), { oomKilled: true });
    expect(fold(created!, started!, oom!)?.outOfMemorySinceStart).toBe(true);
    expect(fold(created!, started!, oom!, died!)).toMatchObject({
      oomKilled: true,
      outOfMemorySinceStart: false,
    });
    expect(fold(created!, started!, oom!, started!)?.outOfMemorySinceStart).toBe(false);
  });

  it('the same Docker event always gives the same event ids; another time or action gives others', () => {
    const ids = (e: DockerContainerEvent) => domainEventsFor(e).map((p) => p.eventId);
    expect(ids(event('start'))).toEqual(ids(event('start')));
    expect(ids(event('start'))).not.toEqual(ids(event('start', {}, '1764000000123456790')));
    expect(ids(event('pause'))).not.toEqual(ids(event('unpause')));
  });

  it('die carries the exit code and the OOM kill; occurredAt is the Docker event time', () => {
    const [stopped] = domainEventsFor(event('die', { exitCode: '137' }), { oomKilled: true });
    expect(stopped!.event.data).toMatchObject({
      exitCode: 137,
      oomKilled: true,
      finishedAt: '2025-11-24T16:00:00.123Z',
    });
    expect(stopped!.occurredAt).toBe(instantOfTimeNano('1764000000123456789'));
    expect(stopped!.event.data).toMatchObject({
      observation: 'observed',
      dockerEvent: { id: ID, action: 'die', timeNano: '1764000000123456789' },
    });
  });

  it('rename records the old name without its slash', () => {
    const [renamed] = domainEventsFor(event('rename', { name: 'new', oldName: '/old' }));
    expect(renamed!.event.data).toMatchObject({ name: 'new', oldName: 'old' });
  });

  it('a container gone before it could be inspected is described from the event: owner yes, GPUs unknown', () => {
    const description = describeFromEventAttributes(
      ID,
      { name: 'x', image: 'img', 'ds01.user': 'alice' },
      facts,
    );
    expect(description).toMatchObject({
      image: 'img',
      owner: { user: 'alice' },
      gpu: { access: 'unknown' },
      labels: { 'ds01.user': 'alice' },
      limits: null,
    });
  });

  it('every event it plans passes the catalog (what the store validates at append)', () => {
    const all = [
      ...domainEventsFor(event('create')),
      ...descriptionEventsFor(event('create'), describeOf({}), 'inspect'),
      ...descriptionEventsFor(
        event('create'),
        describeFromEventAttributes(ID, event('create').attributes, facts),
        'event-attributes',
      ),
      ...domainEventsFor(event('start')),
      ...domainEventsFor(event('oom')),
      ...domainEventsFor(event('die', { exitCode: '0' })),
      ...domainEventsFor(event('rename', { oldName: '/a' })),
      ...domainEventsFor(event('health_status: healthy')),
      ...domainEventsFor(event('destroy')),
    ];
    for (const planned of all) {
      const definition = eventCatalog.definition(planned.event.type);
      expect(definition?.schema.safeParse(planned.event.data).success).toBe(true);
    }
  });
});
