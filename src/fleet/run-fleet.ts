import { errorMessage } from '../errors/opsmate-error.js';
import { isNotRunResult } from '../runtime/command-review.js';
import type { Runtime } from '../runtime/contract.js';
import type { TargetOutcome } from './group-results.js';

/** Targets connected and running at once, unless the setting says otherwise. */
export const DEFAULT_FLEET_PARALLELISM = 10;

export interface FleetMember {
  name: string;
  /** Not connected yet: the fleet connects it when its turn comes and disconnects it after. */
  runtime: Runtime;
}

export interface RunFleetOptions {
  members: readonly FleetMember[];
  command: string;
  /** Targets at work at once; at most this many connections are open. */
  parallelism: number;
  /** Per target, for the command (connecting has the runtime's own connect timeout). */
  timeoutMs?: number;
  idleTimeoutMs?: number;
  signal: AbortSignal;
  /** After each target, with every outcome so far. */
  onOutcome?: (outcome: TargetOutcome, done: readonly TargetOutcome[]) => void;
}

/**
 * Runs one command on every member, `parallelism` at a time, and returns one outcome per member in
 * the members' order. A target that cannot connect is `unreachable` and never stops the others;
 * each is connected only when a slot is free and disconnected as soon as it is done, so a fleet of
 * hundreds holds at most `parallelism` connections (and, over SSH, master processes).
 */
export async function runFleet(options: RunFleetOptions): Promise<TargetOutcome[]> {
  const outcomes: TargetOutcome[] = new Array(options.members.length);
  const done: TargetOutcome[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < options.members.length && !options.signal.aborted) {
      const index = next++;
      const member = options.members[index]!;
      const outcome = await runOne(member, options);
      outcomes[index] = outcome;
      done.push(outcome);
      options.onOutcome?.(outcome, done);
    }
  };
  const slots = Math.max(1, Math.min(options.parallelism, options.members.length));
  await Promise.all(Array.from({ length: slots }, worker));
  // Aborted before their turn: reported as not run, never left out.
  for (let index = 0; index < options.members.length; index++) {
    outcomes[index] ??= {
      target: options.members[index]!.name,
      status: 'not-run',
      exitCode: null,
      stdout: '',
      stderr: '',
      timedOut: false,
      notice: 'not run: interrupted before its turn',
      durationMs: 0,
      facts: safeFacts(options.members[index]!.runtime),
    };
  }
  return outcomes;
}

async function runOne(member: FleetMember, options: RunFleetOptions): Promise<TargetOutcome> {
  const started = Date.now();
  const base = {
    target: member.name,
    stdout: '',
    stderr: '',
    timedOut: false,
    facts: safeFacts(member.runtime),
  };
  try {
    try {
      await member.runtime.connect({ signal: options.signal });
    } catch (error) {
      return {
        ...base,
        status: 'unreachable',
        exitCode: null,
        notice: errorMessage(error),
        durationMs: Date.now() - started,
      };
    }
    let result;
    try {
      result = await member.runtime.run(options.command, {
        ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
        ...(options.idleTimeoutMs !== undefined ? { idleTimeoutMs: options.idleTimeoutMs } : {}),
        signal: options.signal,
      });
    } catch (error) {
      // The runtime could not run anything (its shell could not be restarted): the target is gone.
      return {
        ...base,
        status: 'unreachable',
        exitCode: null,
        notice: errorMessage(error),
        durationMs: Date.now() - started,
      };
    }
    if (isNotRunResult(result))
      return {
        ...base,
        status: 'not-run',
        exitCode: null,
        notice: result.notice ?? 'not run',
        durationMs: 0,
      };
    return {
      ...base,
      status: result.exitCode === 0 ? 'ok' : 'failed',
      exitCode: result.exitCode,
      stdout: result.stdout,
      stderr: result.stderr,
      timedOut: result.timedOut,
      ...(result.notice ? { notice: result.notice } : {}),
      ...(result.truncated ? { spillFiles: result.spillFiles } : {}),
      durationMs: result.durationMs,
    };
  } finally {
    await member.runtime.disconnect();
  }
}

function safeFacts(runtime: Runtime): Record<string, string> {
  try {
    return runtime.target();
  } catch {
    return {};
  }
}
