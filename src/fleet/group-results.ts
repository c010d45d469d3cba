/** What one target of a fleet run did. */
export interface TargetOutcome {
  target: string;
  /** `ok`: exit 0; `failed`: ran and exited non-zero, timed out or lost its shell; `unreachable`: could not connect; `not-run`: the policy or the review refused it. */
  status: 'ok' | 'failed' | 'unreachable' | 'not-run';
  exitCode: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  /** Why, for unreachable and not-run targets; the runtime's notice otherwise. */
  notice?: string;
  durationMs: number;
  /** The runtime's target facts (`{ target: 'web-1', host: ... }`). */
  facts: Record<string, string>;
  /** Full streams on the opsmate machine, when they were cut and spill files are kept. */
  spillFiles?: { stdout?: string; stderr?: string };
}

/** What grouping looks at. */
export type GroupableOutcome = Pick<
  TargetOutcome,
  'target' | 'status' | 'exitCode' | 'stdout' | 'stderr' | 'timedOut' | 'notice'
>;

/** Targets whose outcome is the same: one entry with a count and their names. */
export interface OutcomeGroup {
  status: TargetOutcome['status'];
  exitCode: number | null;
  stdout: string;
  stderr: string;
  /** For unreachable and not-run groups: each target's reason. */
  notices: Array<{ target: string; notice: string }>;
  targets: string[];
}

/**
 * Groups outcomes: identical status, exit code and output make one group (unreachable targets
 * are one group whatever their reason; not-run ones one per reason). Ran groups come first, the
 * smallest first (the odd ones out), then unreachable, then not run.
 */
export function groupOutcomes(outcomes: readonly GroupableOutcome[]): OutcomeGroup[] {
  const groups = new Map<string, OutcomeGroup>();
  for (const outcome of outcomes) {
    const key =
      outcome.status === 'unreachable'
        ? 'unreachable'
        : outcome.status === 'not-run'
          ? `not-run\u0000${outcome.notice ?? ''}`
          : JSON.stringify([
              outcome.status,
              outcome.exitCode,
              outcome.timedOut,
              outcome.stdout,
              outcome.stderr,
            ]);
    let group = groups.get(key);
    if (!group) {
      group = {
        status: outcome.status,
        exitCode: outcome.exitCode,
        stdout: outcome.stdout,
        stderr: outcome.stderr,
        notices: [],
        targets: [],
      };
      groups.set(key, group);
    }
    group.targets.push(outcome.target);
    if (outcome.status === 'unreachable' || outcome.status === 'not-run')
      group.notices.push({ target: outcome.target, notice: outcome.notice ?? '' });
  }
  const rank = (group: OutcomeGroup): number =>
    group.status === 'unreachable' ? 1 : group.status === 'not-run' ? 2 : 0;
  return [...groups.values()].sort((a, b) => rank(a) - rank(b) || a.targets.length - b.targets.length);
}

/** `47 ok, 2 failed, 1 unreachable`: the counts that are not zero. */
export function summarizeOutcomes(outcomes: readonly Pick<TargetOutcome, 'status'>[]): string {
  const counts = { ok: 0, failed: 0, unreachable: 0, 'not-run': 0 };
  for (const outcome of outcomes) counts[outcome.status] += 1;
  return (Object.entries(counts) as Array<[string, number]>)
    .filter(([, count]) => count > 0)
    .map(([status, count]) => `${count} ${status === 'not-run' ? 'not run' : status}`)
    .join(', ');
}
