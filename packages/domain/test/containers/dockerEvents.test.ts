import {
  type ContainerDescription,
  type DescribeFacts,
  type DockerContainerEvent,
  describeContainer,
  describeFromEventAttributes,
  domainEventsFor,
  eventCatalog,
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

  it('create of an unmanaged container: ContainerCreated and UnmanagedContainerDetected, with distinct ids', () => {
    const planned = domainEventsFor(event('create'), { description: describeOf({ 'ds01.user': 'alice' }) });
    expect(planned.map((p) => p.event.type)).toEqual(['ContainerCreated', 'UnmanagedContainerDetected']);
    expect(new Set(planned.map((p) => p.eventId)).size).toBe(2);
    expect(planned[1]!.event.data).toMatchObject({
      owner: { user: 'alice', rule: 'ds01_label' },
      gpu: { access: 'none' },
    });
  });

  it('create of a managed or infrastructure container: no UnmanagedContainerDetected', () => {
    const managed = domainEventsFor(event('create'), { description: describeOf({ 'ds01.managed': 'true' }) });
    const infra = domainEventsFor(event('create'), { description: describeOf({ 'ds01.protected': 'true' }) });
    expect(managed.map((p) => p.event.type)).toEqual(['ContainerCreated']);
    expect(infra.map((p) => p.event.type)).toEqual(['ContainerCreated']);
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
      ...domainEventsFor(event('create'), { description: describeOf({}) }),
      ...domainEventsFor(event('start')),
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
