import { readFileSync } from 'node:fs';
import {
  connectDocker,
  DockerAnswerError,
  DockerHostError,
  parseContainerEventLine,
  parseInspect,
  parsePasswd,
  sinceArgument,
} from '@ds01/host';
import { describe, expect, it } from 'vitest';

const where = { host: 'unix:///run/test.sock' };
const line = readFileSync(new URL('./fixtures/event-create.jsonl', import.meta.url), 'utf8').trim();

describe('reading the Docker daemon', () => {
  it("keeps timeNano's exact digits (a JSON number would lose them) and the attributes", () => {
    const event = parseContainerEventLine(where, line)!;
    const digits = /"timeNano":(\d+)/.exec(line)![1]!;
    expect(event.timeNano).toBe(digits);
    expect(String(Number(digits))).not.toBe(digits); // why the digits are cut from the text
    expect(event).toMatchObject({
      action: 'create',
      attributes: { 'ds01.user': 'alice', image: 'ds01-test/busybox:latest' },
    });
    expect(event.id).toMatch(/^[0-9a-f]{64}$/);
  });

  it('ignores events of other types; a garbled line is a DockerAnswerError naming the call', () => {
    expect(
      parseContainerEventLine(where, line.replace('"Type":"container"', '"Type":"network"')),
    ).toBeUndefined();
    expect(() => parseContainerEventLine(where, '{"Type":"container",')).toThrow(DockerAnswerError);
    expect(() => parseContainerEventLine(where, '{"Type":"container","Action":"start"}')).toThrow(
      /GET \/events/,
    );
  });

  it('turns timeNano into Docker`s since argument (seconds.nanoseconds)', () => {
    expect(sinceArgument('1764000000123456789')).toBe('1764000000.123456789');
    expect(sinceArgument('5')).toBe('0.000000005');
  });

  it('an inspect answer missing a field fails naming it', () => {
    const error = (() => {
      try {
        parseInspect(where, 'x', { Id: 'a'.repeat(64), Name: '/x' });
      } catch (e) {
        return e as DockerAnswerError;
      }
    })();
    expect(error).toBeInstanceOf(DockerAnswerError);
    expect(error?.field).toBe('Created');
    expect(error?.message).toContain('GET /containers/x/json');
  });

  it('reads passwd lines, skipping malformed ones', () => {
    expect(
      parsePasswd('root:x:0:0:root:/root:/bin/bash\ngarbage\nalice:x:1001:1001::/home/alice:/bin/sh\n'),
    ).toEqual([
      { name: 'root', uid: 0 },
      { name: 'alice', uid: 1001 },
    ]);
  });

  it('connects to unix sockets only, saying what DOCKER_HOST should be', () => {
    expect(connectDocker('unix:///run/x.sock').host).toBe('unix:///run/x.sock');
    expect(connectDocker('/run/x.sock').host).toBe('unix:///run/x.sock');
    expect(() => connectDocker('tcp://1.2.3.4:2375')).toThrow(DockerHostError);
  });
});
