/** The kinds of wrong the harness looks for; each is a row of the report and must stay at 0. */
export const FINDING_KINDS = [
  'lost',
  'duplicated',
  'slot conflict',
  'projection mismatch',
  'docker duplicate',
  'docker lost or wrong',
] as const;
export type FindingKind = (typeof FINDING_KINDS)[number];

export interface Finding {
  kind: FindingKind;
  /** What was found, with the ids to look up (`ds01 events tail --stream …`). */
  detail: string;
  /** The check pass that found it first: after kill N, or at the end. */
  when?: string;
}
