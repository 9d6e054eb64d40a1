import { renderTable } from '../../packages/cli/src/output/table.ts';
import { FINDING_KINDS, type Finding } from './checks/finding.ts';

export interface FaultReport {
  seed: number;
  /** Times ds01d was SIGKILLed (and started again). */
  daemonKills: number;
  /** CLI commands SIGKILLed mid-command. */
  cliKills: number;
  acknowledged: number;
  /** CLI commands that exited with an error of their own (not a kill). */
  failed: number;
  /** What the failed commands said (each distinct first line once). */
  failures: string[];
  /** Busybox containers the harness started. */
  containers: number;
  findings: Finding[];
  durationMs: number;
}

/** The findings that make a run fail: every one does. */
export function failed(report: FaultReport): boolean {
  return report.findings.length > 0;
}

/** The table the harness prints, then each finding (at most `maxFindings` per kind). */
export function formatReport(report: FaultReport, options: { replay: string; maxFindings?: number }): string {
  const counts = FINDING_KINDS.map((kind) => ({
    what: kind,
    value: report.findings.filter((f) => f.kind === kind).length,
  }));
  const rows: { what: string; value: number }[] = [
    { what: 'ds01d kills (SIGKILL)', value: report.daemonKills },
    { what: 'CLI commands killed (SIGKILL)', value: report.cliKills },
    { what: 'commands acknowledged', value: report.acknowledged },
    { what: 'commands failed (their own error)', value: report.failed },
    { what: 'containers started', value: report.containers },
    ...counts,
  ];
  const lines = [
    `crash harness: seed ${report.seed}, ${(report.durationMs / 1000).toFixed(0)} s (replay: ${options.replay})`,
    renderTable(
      [
        { header: 'measure', value: (r) => r.what },
        { header: 'count', value: (r) => String(r.value), align: 'right' },
      ],
      rows,
    ),
  ];
  const max = options.maxFindings ?? 5;
  if (report.failures.length > 0) {
    // Not findings (a command may fail, if it says so), but worth reading: a lock timeout, a full disk.
    lines.push('', 'failed commands said:', ...report.failures.slice(0, max).map((f) => `  ${f}`));
  }
  for (const kind of FINDING_KINDS) {
    const ofKind = report.findings.filter((f) => f.kind === kind);
    if (ofKind.length === 0) continue;
    lines.push('', `${kind} (${ofKind.length}):`);
    for (const finding of ofKind.slice(0, max))
      lines.push(`  ${finding.when ? `[${finding.when}] ` : ''}${finding.detail}`);
    if (ofKind.length > max) lines.push(`  … and ${ofKind.length - max} more`);
  }
  lines.push(
    '',
    failed(report)
      ? 'FAILED: every count below "containers started" must be 0'
      : 'passed: nothing lost, nothing twice',
  );
  return lines.join('\n');
}
