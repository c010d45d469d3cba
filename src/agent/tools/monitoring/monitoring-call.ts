import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { z } from 'zod';
import { ConfigError, errorMessage } from '../../../errors/opsmate-error.js';
import {
  monitoringEndpoint,
  monitoringUnavailable,
  type MonitoringEndpoint,
  type MonitoringService,
} from '../../../monitoring/monitoring-endpoints.js';
import { MonitoringError } from '../../../monitoring/monitoring-http.js';
import { SHELL_LANGUAGE, type Runtime } from '../../../runtime/contract.js';
import { renderDraft, type Draft } from '../draft-result.js';
import type { ToolChart, ToolContext, ToolResult } from '../tool-contract.js';

/** Room for opsmate's own lines around the data in the output limit. */
const HEADER_ROOM_CHARS = 1000;

/** What a monitoring tool's work gets: the endpoint, and the target's runtime when it is reached from there. */
export interface MonitoringAccess {
  endpoint: MonitoringEndpoint;
  signal: AbortSignal;
  runtime?: Runtime;
  /** The target's runtime (beneath the shell guard), for a second service reached from the target. */
  targetRuntime: Runtime;
}

/** A draft with an optional chart for the user. */
export type MonitoringDraft = Draft & { chart?: ToolChart };

/** `unavailable()` of a tool that needs the service's endpoint. */
export function needsEndpoint(service: MonitoringService): (env: NodeJS.ProcessEnv) => string | undefined {
  return (env) => monitoringUnavailable(service, env);
}

/**
 * Runs one call of a monitoring tool through the session's guard for tool calls (policy, review
 * for writes, the audit log, masking): reads the endpoint from the settings, hands the work the
 * endpoint (and the unguarded runtime when the endpoint is reached from the target), turns a
 * failed request into one line for the model, and masks and wraps what came from the server.
 */
export async function runMonitoringCall<Input extends object>(options: {
  tool: string;
  service: MonitoringService;
  input: Input;
  schema: z.ZodType<Input, unknown>;
  readOnly: boolean;
  context: ToolContext;
  signal: AbortSignal;
  act(input: Input, access: MonitoringAccess): Promise<MonitoringDraft>;
}): Promise<ToolResult> {
  const { context } = options;
  const gate = context.guardedCalls;
  if (!gate)
    return failure(
      `${options.tool} cannot act here: this session has no guard for tool calls, so nothing was sent.`,
    );
  let endpoint: MonitoringEndpoint | undefined;
  try {
    endpoint = monitoringEndpoint(options.service, context.env ?? {});
  } catch (error) {
    if (!ConfigError.isInstance(error)) throw error;
    return failure(
      `${options.tool}: ${error.message}${error.hint ? ` (${error.hint})` : ''}. Nothing was sent.`,
    );
  }
  if (!endpoint)
    return failure(
      `${options.tool}: ${monitoringUnavailable(options.service, context.env ?? {})}. Nothing was sent.`,
    );
  if (endpoint.reach === 'target' && (context.runtime.language ?? SHELL_LANGUAGE).id !== SHELL_LANGUAGE.id)
    return failure(
      `${options.tool}: ${endpoint.envPrefix}_FROM=target needs a shell on the target (for curl or wget), and the ${context.runtime.name} runtime has none. Nothing was sent.`,
    );
  const { description: _why, ...args } = options.input as Input & { description?: string };
  const known = endpoint;
  const outcome = await gate.run<{ draft: MonitoringDraft; result?: ToolResult }>({
    tool: options.tool,
    arguments: args,
    readOnly: options.readOnly,
    signal: options.signal,
    validate: (raw) => {
      const parsed = options.schema.safeParse(raw);
      return parsed.success
        ? { ok: true, value: parsed.data }
        : { ok: false, message: parsed.error.issues.map((issue) => issue.message).join('; ') };
    },
    execute: async (raw, _plan, access) => {
      const input = options.schema.parse(raw);
      try {
        return {
          draft: await options.act(input, {
            endpoint: known,
            signal: access.signal,
            targetRuntime: access.runtime,
            ...(known.reach === 'target' ? { runtime: access.runtime } : {}),
          }),
        };
      } catch (error) {
        if (!(error instanceof MonitoringError)) throw error;
        // The server's words are its data: wrapped; opsmate's line says what failed.
        return {
          draft: {
            blocks: [
              `${options.tool} failed; nothing was ${options.readOnly ? 'read' : 'changed'}:`,
              { source: `${options.service}-error`, text: error.message },
            ],
            display: error.message,
            isError: true,
          },
        };
      }
    },
    mask: ({ draft }, redact) => {
      const rendered = renderDraft(draft, redact, context.maxOutputLength + HEADER_ROOM_CHARS);
      const chart = draft.chart && {
        ...draft.chart,
        title: redact(draft.chart.title).text,
        series: draft.chart.series.map((entry) => ({ ...entry, name: redact(entry.name).text })),
      };
      const result: ToolResult = chart
        ? {
            ...rendered.value,
            display: { kind: 'text', text: (rendered.value.display as { text: string }).text, chart },
          }
        : rendered.value;
      return { ...rendered, value: { draft, result } };
    },
  });
  if (!outcome.ran) {
    const text = `The ${options.tool} call was NOT run: ${outcome.reason}.\nNothing was ${options.readOnly ? 'read' : 'changed'}. Do not assume its outcome; ask the user or try another approach.`;
    return { llmContent: text, display: { kind: 'text', text: `not run: ${outcome.reason}` } };
  }
  return outcome.value.result!;
}

export function failure(message: string): ToolResult {
  return { llmContent: message, display: { kind: 'text', text: message }, isError: true };
}

/**
 * Keeps a full result in a spill file the model may page with ReadSpilledOutput; returns the
 * line naming it, or a line saying why it could not be kept.
 */
export function keepFullResult(context: ToolContext, options: { kind: string; text: string }): string {
  if (!context.spillDir) return 'The full result was not kept (no spill directory in this session).';
  try {
    mkdirSync(context.spillDir, { recursive: true, mode: 0o700 });
    const path = join(
      context.spillDir,
      `${options.kind}-${Date.now()}-${randomBytes(3).toString('hex')}.txt`,
    );
    writeFileSync(path, options.text, { mode: 0o600 });
    context.spillFiles.remember(path);
    return `The full result (${options.text.split('\n').length - 1} lines) is in ${path}: page it with ReadSpilledOutput.`;
  } catch (error) {
    return `The full result could not be kept: ${errorMessage(error)}.`;
  }
}
