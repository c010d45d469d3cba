import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import type { AuditError } from '../../safety/audit-log.js';
import { FanOutReviewer } from '../../fleet/fan-out-reviewer.js';
import { groupOutcomes, summarizeOutcomes, type TargetOutcome } from '../../fleet/group-results.js';
import { runFleet } from '../../fleet/run-fleet.js';
import type { TargetSpec } from '../../targets/resolve-targets.js';
import { abortOnSignals } from '../abort-on-signals.js';
import type { CliContext } from '../cli-context.js';
import { readSettings } from '../field-options.js';
import { openGuard } from '../open-runtime.js';
import type { OutputFormat } from '../output-format.js';
import { writeJson } from '../output-format.js';
import { parseSeconds } from '../parse-seconds.js';
import { visibleText } from '../terminal/visible-text.js';
import { chooseReviewer } from '../terminal/choose-reviewer.js';
import { colorsFor } from '../terminal/terminal-style.js';
import { commandText, EXIT_NOT_RUN } from './exec-command.js';

/** Lines of one group's output shown in text mode; the whole output is in -o json. */
const SHOWN_LINES_PER_GROUP = 40;

export interface FleetExecInput {
  words: string[];
  command: Command;
  context: CliContext;
  targets: readonly TargetSpec[];
  format: OutputFormat;
  options: {
    timeout?: string;
    idleTimeout?: string;
    review?: boolean;
    yes?: boolean;
    keepOutput?: boolean;
  };
}

/**
 * `opsmate exec -t GROUP -- CMD`: the command on every target, a bounded number at a time, each
 * judged by the policy for its target, one review for the fan-out, one audit record per target;
 * the results grouped. Exit 0 when every target exited 0, 126 when the only failures are targets
 * not run, else 1.
 */
export async function runFleetExec(input: FleetExecInput): Promise<number> {
  const { command, context, targets, format, options } = input;
  const settings = readSettings(command, context);
  const timeoutMs = options.timeout === undefined ? undefined : parseSeconds(options.timeout, '--timeout');
  const idleTimeoutMs =
    options.idleTimeout === undefined ? undefined : parseSeconds(options.idleTimeout, '--idle-timeout');
  const shellCommand = await commandText(input.words, false);
  const names = targets.map((target) => target.name);
  const auditFailures: AuditError[] = [];
  const guard = openGuard({
    command,
    settings,
    context,
    ...(options.keepOutput ? {} : { spillLimitBytes: 0 }),
    guard: {
      reviewer: new FanOutReviewer({
        reviewer: chooseReviewer({ yes: Boolean(options.yes) && !options.review, context }),
        targets: names,
      }),
      reviewAll: Boolean(options.review),
      onAuditFailure: (error) => auditFailures.push(error),
      defaultProfile: 'ask-destructive',
      sessionId: randomUUID(),
    },
  });
  // Every target's fields are checked before any target connects.
  const members = targets.map((target) => ({ name: target.name, runtime: guard.runtimeFor(target) }));
  const stderrColors = colorsFor(context.stderr, context.env);
  const live = Boolean(context.stderr.isTTY);
  if (live)
    context.stderr.write(
      `${stderrColors.dim(`opsmate exec · ${targets.length} targets · ${settings.fleetParallelism} at a time · policy ${guard.policy.profile} · review ${options.review ? 'on' : options.yes ? '--yes' : 'off'}`)}\n`,
    );
  const interrupt = abortOnSignals();
  const started = Date.now();
  let outcomes: TargetOutcome[];
  try {
    outcomes = await runFleet({
      members,
      command: shellCommand,
      parallelism: settings.fleetParallelism,
      ...(timeoutMs !== undefined ? { timeoutMs } : {}),
      ...(idleTimeoutMs !== undefined ? { idleTimeoutMs } : {}),
      signal: interrupt.signal,
      onOutcome: (outcome, done) => {
        if (format === 'jsonl') context.stdout.write(`${JSON.stringify(outcomeRecord(outcome))}\n`);
        if (live) {
          const unreachable = done.filter((item) => item.status === 'unreachable').length;
          const failed = done.filter((item) => item.status === 'failed').length;
          context.stderr.write(
            `\r\x1b[K${done.length}/${targets.length} done${failed ? `, ${failed} failed` : ''}${unreachable ? `, ${unreachable} unreachable` : ''}`,
          );
        }
      },
    });
  } finally {
    if (live) context.stderr.write('\r\x1b[K');
    interrupt.dispose();
  }
  const elapsedMs = Date.now() - started;
  const groups = groupOutcomes(outcomes);
  if (format === 'json') {
    writeJson(context.stdout, {
      command: shellCommand,
      summary: summarizeOutcomes(outcomes),
      durationMs: elapsedMs,
      results: outcomes.map(outcomeRecord),
      groups: groups.map((group) => ({
        status: group.status,
        exitCode: group.exitCode,
        count: group.targets.length,
        targets: group.targets,
      })),
    });
  } else if (format === 'text') {
    const colors = colorsFor(context.stdout, context.env);
    for (const group of groups) {
      const count = group.targets.length;
      const who = `${count === 1 ? '1 target' : `${count} targets`}: ${group.targets.join(', ')}`;
      if (group.status === 'unreachable' || group.status === 'not-run') {
        context.stdout.write(
          `${colors.bold(`${group.status === 'unreachable' ? 'unreachable' : 'not run'} (${who})`)}\n`,
        );
        for (const { target, notice } of group.notices)
          context.stdout.write(`  ${target}: ${visibleText(notice)}\n`);
        continue;
      }
      const status = group.exitCode === null ? 'no exit code' : `exit ${group.exitCode}`;
      context.stdout.write(`${colors.bold(`${status} (${who})`)}\n`);
      writeIndented(context.stdout, group.stdout);
      if (group.stderr !== '') {
        context.stdout.write(`  ${colors.dim('stderr:')}\n`);
        writeIndented(context.stdout, group.stderr);
      }
    }
    context.stdout.write(
      `${colors.dim(`${targets.length} targets: ${summarizeOutcomes(outcomes)} in ${(elapsedMs / 1000).toFixed(1)} s`)}\n`,
    );
  }
  for (const failure of auditFailures.slice(0, 1)) {
    context.stderr.write(`opsmate: error: not run: ${failure.message}\n`);
    if (failure.hint) context.stderr.write(`opsmate: hint: ${failure.hint}\n`);
  }
  if (interrupt.signal.aborted) return interrupt.exitCode();
  const bad = outcomes.filter((outcome) => outcome.status !== 'ok');
  if (bad.length === 0) return 0;
  if (bad.every((outcome) => outcome.status === 'not-run')) {
    if (format === 'text' && bad.some((outcome) => outcome.notice?.includes('no terminal')))
      context.stderr.write(
        'opsmate: hint: run it from a terminal to approve it once for every target, pass --yes, or add an allow rule to the policy file\n',
      );
    return EXIT_NOT_RUN;
  }
  return 1;
}

function outcomeRecord(outcome: TargetOutcome): Record<string, unknown> {
  return {
    target: outcome.target,
    status: outcome.status,
    exitCode: outcome.exitCode,
    stdout: outcome.stdout,
    stderr: outcome.stderr,
    timedOut: outcome.timedOut,
    ...(outcome.notice ? { notice: outcome.notice } : {}),
    durationMs: outcome.durationMs,
    facts: outcome.facts,
  };
}

function writeIndented(out: NodeJS.WritableStream, text: string): void {
  if (text === '') return;
  const lines = text.replace(/\n$/, '').split('\n');
  const shown = lines.slice(0, SHOWN_LINES_PER_GROUP);
  for (const line of shown) out.write(`  ${visibleText(line)}\n`);
  if (lines.length > shown.length)
    out.write(`  … ${lines.length - shown.length} more lines (-o json has them all)\n`);
}
