import { Command } from 'commander';
import { ConfigError } from '../../errors/opsmate-error.js';
import { DEFAULT_LOG_LINES, lokiQueryRange, lokiTime, MAX_LOG_LINES } from '../../monitoring/loki-client.js';
import { parseDuration, resolveTimeRange } from '../../monitoring/time-range.js';
import type { CliContext } from '../cli-context.js';
import { escapeControlCharacters } from '../../agent/tools/visible-text.js';
import { parseOutputFormat, writeJson } from '../output-format.js';
import {
  addMonitoringOptions,
  requestWithSignals,
  requireEndpoint,
  timeoutMs,
} from './monitoring-command-support.js';

/** `opsmate logs '{job="nginx"}'`: a LogQL query against LOKI_ENDPOINT, newest lines first. */
export function logsCommand(context: CliContext): Command {
  return addMonitoringOptions(
    new Command('logs')
      .summary('read log lines from LOKI_ENDPOINT with a LogQL query, newest first (no model)')
      .argument('<QUERY>', 'the LogQL log query: {job="nginx"} |= "error"')
      .option('--since <RANGE>', 'the range: 1h, 30m, 02:00 [default: 1h]')
      .option('--limit <LINES>', `lines at most, up to ${MAX_LOG_LINES} [default: ${DEFAULT_LOG_LINES}]`),
  ).action(
    async (query: string, options: { output?: string; timeout?: string; since?: string; limit?: string }) => {
      const format = parseOutputFormat(options.output);
      const endpoint = requireEndpoint(context, 'loki');
      const limit = options.limit === undefined ? DEFAULT_LOG_LINES : Number(options.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LOG_LINES)
        throw new ConfigError(`--limit ${options.limit} must be a whole number from 1 to ${MAX_LOG_LINES}`, {
          hint: '--limit 200',
        });
      const since = options.since?.trim();
      const range = resolveTimeRange({
        range:
          since === undefined || /^(last|past|since)\s/i.test(since)
            ? since
            : parseDuration(since) !== undefined
              ? `last ${since}`
              : `since ${since}`,
        now: new Date(),
        defaultMs: 3_600_000,
      });
      if ('error' in range) throw new ConfigError(range.error, { hint: 'e.g. --since 30m or --since 02:00' });
      const { lines, limitReached } = await requestWithSignals(endpoint, (signal) =>
        lokiQueryRange(
          { endpoint, signal, timeoutMs: timeoutMs(options.timeout) },
          { query, start: range.start, end: range.end, limit },
        ),
      );
      if (format === 'json')
        return writeJson(context.stdout, {
          query,
          start: range.start.toISOString(),
          end: range.end.toISOString(),
          limitReached,
          lines: lines.map((entry) => ({
            time: lokiTime(entry.timestampNs),
            stream: entry.stream,
            line: entry.line,
          })),
        });
      for (const entry of lines) {
        const labels = Object.entries(entry.stream)
          .map(([name, value]) => `${name}=${JSON.stringify(value)}`)
          .join(',');
        // A log line's escape sequences would act on the terminal: shown as \xNN.
        context.stdout.write(
          `${lokiTime(entry.timestampNs)} ${escapeControlCharacters(`{${labels}} ${entry.line}`).text}\n`,
        );
      }
      context.stderr.write(
        `${lines.length} line${lines.length === 1 ? '' : 's'}, newest first, ${range.text}${limitReached ? `; the limit of ${limit} was reached (--limit, or narrow the query)` : ''}\n`,
      );
    },
  );
}
