import { Command, Option } from 'commander';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { ConfigError } from '../../errors/opsmate-error.js';
import type { AuditError } from '../../safety/audit-log.js';
import { isNotRunResult } from '../../runtime/command-review.js';
import { targetFactsForModel } from '../../agent/tools/untrusted-text.js';
import { NO_DEV_NULL_NOTICE } from '../../runtime/shell-runtime.js';
import { gatherTargetFacts } from '../../runtime/target-facts.js';
import { abortOnSignals } from '../abort-on-signals.js';
import type { CliContext } from '../cli-context.js';
import {
  addRuntimeOptions,
  addSettingOptions,
  readSettings,
  RUNTIME_COMMAND_SETTINGS,
} from '../field-options.js';
import { createRuntimeFromFlags } from '../open-runtime.js';
import { formatRunHeader } from '../render/run-header.js';
import { colorsFor } from '../terminal/terminal-style.js';
import { chooseReviewer } from '../terminal/choose-reviewer.js';
import { parseSeconds } from '../parse-seconds.js';
import { addTargetOptions, chosenTargets } from '../target-options.js';
import { runFleetExec } from './fleet-exec.js';
import { outputOption, parseOutputFormat, writeJson } from '../output-format.js';

/** Exit status for a timed-out command, as `timeout(1)` uses. */
export const EXIT_TIMED_OUT = 124;
/**
 * Exit status when the command was not run: the policy or the reviewer refused it, or it could not
 * be recorded in the audit log first. As shells use for "cannot execute".
 */
export const EXIT_NOT_RUN = 126;

export function execCommand(context: CliContext): Command {
  const command = new Command('exec')
    .summary('run one shell command through a runtime, without a model')
    .description(
      'Run one shell command through a runtime, with no language model involved, and exit with its ' +
        "exit code (124 on timeout). Use it to check a runtime's configuration before chatting.\n" +
        'Give the command after `--`; `-` reads it from stdin.\n' +
        'The command policy applies: a denied command, or one that needs approval when there is no ' +
        'terminal to ask (and no --yes), is not run and exec exits with 126. Every command is ' +
        'recorded in the audit log before it runs, and not run (exit 126) when it cannot be. ' +
        'Ctrl-C, SIGTERM and SIGHUP stop the command and exit with 130, 143 and 129.',
    )
    .argument('[command...]', 'the shell command; several words are joined with spaces')
    .passThroughOptions()
    .addOption(new Option('--timeout <SECONDS>', 'kill the command after this long [default: 120]'))
    .addOption(
      new Option('--idle-timeout <SECONDS>', 'kill the command when it prints nothing for this long'),
    )
    .option(
      '--info',
      'print what the model is told about the target: runtime, and OS, user and systemd where they apply',
    )
    .option(
      '--keep-output',
      'also save output over --output-limit to a spill file (it is shown live; by default not kept)',
    )
    .option('-r, --review', 'approve, edit or cancel the command on the terminal before it runs')
    .option('-y, --yes', 'run commands the policy asks about without asking (deny rules still apply)')
    .addOption(outputOption(['json', 'jsonl']));
  addSettingOptions(command, [...RUNTIME_COMMAND_SETTINGS, 'outputLimit', 'fleetParallelism']);
  addTargetOptions(command);
  addRuntimeOptions(command, context.registry, undefined, context.helpRuntime);
  command.action(async (words: string[], _options, self: Command) => {
    process.exitCode = await runExec(words, self, context);
  });
  return command;
}

async function runExec(words: string[], command: Command, context: CliContext): Promise<number> {
  const options = command.opts<{
    timeout?: string;
    idleTimeout?: string;
    info?: boolean;
    review?: boolean;
    yes?: boolean;
    keepOutput?: boolean;
    output?: string;
  }>();
  const format = parseOutputFormat(options.output, ['json', 'jsonl']);
  const { targets, fleet } = await chosenTargets(command, context);
  if (fleet) {
    if (options.info)
      throw new ConfigError('--info is for one target', {
        hint: `-t chose ${targets.length}: give one of them, e.g. -t ${targets[0]!.name}`,
      });
    return runFleetExec({ words, command, context, targets, format, options });
  }
  if (format === 'jsonl') {
    throw new ConfigError('-o jsonl is for a fleet (-t GROUP): one line per target', {
      hint: 'use -o json with --info, or run on a group of targets',
    });
  }
  if (format === 'json' && !options.info) {
    throw new ConfigError('-o json is for --info: the output of a command is its own', {
      hint: 'use opsmate exec --info -o json, or run the command and read its output as it is',
    });
  }
  const settings = readSettings(command, context);
  const timeoutMs = options.timeout === undefined ? undefined : parseSeconds(options.timeout, '--timeout');
  const idleTimeoutMs =
    options.idleTimeout === undefined ? undefined : parseSeconds(options.idleTimeout, '--idle-timeout');
  const shellCommand = await commandText(words, Boolean(options.info));
  let auditFailure: AuditError | undefined;
  const runtime = createRuntimeFromFlags({
    command,
    settings,
    context,
    // Every byte is shown live: a second full copy on disk only when asked.
    ...(options.keepOutput ? {} : { spillLimitBytes: 0 }),
    ...(targets[0] ? { target: targets[0] } : {}),
    guard: {
      reviewer: chooseReviewer({ yes: Boolean(options.yes) && !options.review, context }),
      reviewAll: Boolean(options.review),
      onAuditFailure: (error) => (auditFailure = error),
      defaultProfile: 'ask-destructive',
    },
  });
  const interrupt = abortOnSignals();
  try {
    try {
      await runtime.connect({ signal: interrupt.signal });
    } catch (error) {
      if (!interrupt.signal.aborted) throw error;
      if (!interrupt.quiet) context.stderr.write('opsmate: interrupted\n');
      return interrupt.exitCode();
    }
    // On a terminal only, as chat does: piped, stderr stays the error lines a script reads.
    if (context.stderr.isTTY)
      context.stderr.write(
        `${formatRunHeader(
          {
            command: 'exec',
            runtime: runtime.name,
            target: runtime.target(),
            profile: runtime.profile,
            review: options.review ? 'on' : options.yes ? '--yes' : 'off',
          },
          colorsFor(context.stderr, context.env),
        )}\n`,
      );
    if (options.info) {
      const facts = await gatherTargetFacts(runtime);
      if (format === 'json') writeJson(context.stdout, { ...facts, target: runtime.target() });
      else context.stdout.write(`${targetFactsForModel(facts)}\n`);
      if (facts.failures.length === 0) return 0;
      context.stderr.write(`opsmate: error: probing the target failed: ${facts.failures.join('; ')}\n`);
      context.stderr.write(
        'opsmate: hint: the facts above marked unknown are what the model would miss; check the target with `opsmate exec -- COMMAND`\n',
      );
      return 1;
    }
    const result = await runtime.run(shellCommand, {
      ...(timeoutMs !== undefined ? { timeoutMs } : {}),
      ...(idleTimeoutMs !== undefined ? { idleTimeoutMs } : {}),
      signal: interrupt.signal,
      onOutput: (chunk) => {
        const stream = chunk.stream === 'stdout' ? context.stdout : context.stderr;
        // A pipe whose reader is gone never drains: the abort (EPIPE) ends the wait.
        if (!stream.write(chunk.data))
          return once(stream, 'drain', { signal: interrupt.signal }).then(
            () => undefined,
            () => undefined,
          );
        return undefined;
      },
    });
    if (isNotRunResult(result) && auditFailure) {
      context.stderr.write(`opsmate: error: not run: ${auditFailure.message}\n`);
      if (auditFailure.hint) context.stderr.write(`opsmate: hint: ${auditFailure.hint}\n`);
      return EXIT_NOT_RUN;
    }
    if (isNotRunResult(result)) {
      context.stderr.write(`opsmate: error: ${result.notice ?? 'not run'}\n`);
      if (result.notice?.includes('no terminal')) {
        context.stderr.write(
          'opsmate: hint: run it from a terminal to approve it, pass --yes, or add an allow rule to the policy file\n',
        );
      }
      return EXIT_NOT_RUN;
    }
    // Warn only when the command was cut short. A one-shot command that runs `exit` ended its
    // shell on purpose, and masking concerns what a model sees: exec's user saw the output live.
    const cutShort =
      result.timedOut || result.cancelled || (result.shellExited && result.shellExitReason !== 'exit');
    if (result.notice && !interrupt.quiet && (cutShort || result.notice.includes(NO_DEV_NULL_NOTICE)))
      context.logger.warn(result.notice);
    if (result.timedOut) return EXIT_TIMED_OUT;
    if (result.cancelled) return interrupt.exitCode();
    return result.exitCode ?? 1;
  } finally {
    interrupt.dispose();
    await runtime.disconnect();
  }
}

export async function commandText(words: string[], info: boolean): Promise<string> {
  if (words.length === 1 && words[0] === '-') return readFileSync(0, 'utf8');
  if (words.length === 0) {
    if (info) return '';
    throw new ConfigError('no command given', {
      hint: 'put the command after --, e.g. opsmate exec -- uptime',
    });
  }
  return words.join(' ');
}
