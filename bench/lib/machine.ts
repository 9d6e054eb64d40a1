import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, release, totalmem } from 'node:os';
import { DatabaseSync } from 'node:sqlite';

/** The machine a bench ran on, as BENCHMARKS.md states it: numbers mean little without it. */
export interface MachineDescription {
  cpu: string;
  cores: number;
  memory: string;
  os: string;
  node: string;
  sqlite: string;
  /** Filesystem and device of the folder the benches wrote to. */
  disk: string;
}

export function describeMachine(workDir: string): MachineDescription {
  const sqlite = new DatabaseSync(':memory:');
  const { version } = sqlite.prepare('SELECT sqlite_version() AS version').get() as { version: string };
  sqlite.close();
  return {
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cores: availableParallelism(),
    memory: `${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    os: `Linux ${release()}`,
    node: process.version,
    sqlite: version,
    disk: describeDisk(workDir),
  };
}

function describeDisk(folder: string): string {
  try {
    // df -T: "Filesystem Type 1K-blocks Used Available Use% Mounted on"
    const line = execFileSync('df', ['-T', folder], { encoding: 'utf8' }).trim().split('\n').at(-1)!;
    const [device, type, , , , , mountedOn] = line.split(/\s+/);
    const rotational = rotationalOf(device!);
    return `${type} on ${device} (mounted at ${mountedOn}${rotational ? `, ${rotational}` : ''})`;
  } catch {
    return 'unknown';
  }
}

/** 'SSD' or 'spinning disk' from /sys/block/<dev>/queue/rotational, when the kernel says. */
function rotationalOf(device: string): string | undefined {
  const name = device.replace(/^\/dev\//, '').replace(/p?\d+$/, '');
  try {
    const flag = readFileSync(`/sys/block/${name}/queue/rotational`, 'utf8').trim();
    return flag === '0' ? 'non-rotational' : 'rotational';
  } catch {
    return undefined;
  }
}
