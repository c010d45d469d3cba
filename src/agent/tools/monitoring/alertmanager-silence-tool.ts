import { z } from 'zod';
import {
  createSilence,
  expireSilence,
  formatMatcher,
  parseMatcher,
} from '../../../monitoring/alertmanager-client.js';
import { formatDuration, isoSeconds, parseDuration } from '../../../monitoring/time-range.js';
import { defineTool } from '../tool-contract.js';
import { needsEndpoint, runMonitoringCall, type MonitoringDraft } from './monitoring-call.js';
import { descriptionFile } from '../description-file.js';

/** A silence lasts at most this long: a longer one is a config change, not an incident step. */
const MAX_SILENCE_MS = 7 * 86_400_000;

const inputSchema = z.object({
  action: z.enum(['create', 'expire']).describe('create a silence, or expire one by id'),
  matchers: z.array(z.string().min(1)).default([]).describe('create: matchers such as alertname="X"'),
  duration: z.string().default('1h').describe('create: how long ("30m", "2h"; at most 7d)'),
  comment: z.string().default('').describe('create: why (shown in the Alertmanager)'),
  id: z.string().optional().describe('expire: the silence id'),
  description: z.string().default('').describe('Why, in a few words, for the user'),
});

export const alertmanagerSilenceTool = defineTool({
  name: 'AlertmanagerSilence',
  summary: 'Creates or expires an Alertmanager silence (a write: asked first)',
  description: descriptionFile(new URL('./alertmanager-silence.md', import.meta.url)),
  readOnly: false,
  inputSchema,
  unavailable: needsEndpoint('alertmanager'),
  title: (input) =>
    input.action === 'create'
      ? `silence ${input.matchers.join(' ')} for ${input.duration}`
      : `expire silence ${input.id ?? '?'}`,
  execute: (input, context, options) =>
    runMonitoringCall({
      tool: 'AlertmanagerSilence',
      service: 'alertmanager',
      input,
      schema: inputSchema,
      readOnly: false,
      context,
      signal: options.signal,
      act: async (args, access): Promise<MonitoringDraft> => {
        if (args.action === 'expire') {
          if (!args.id)
            return refused(
              'action expire needs `id`, the silence to end (see AlertmanagerAlerts show "silences")',
            );
          await expireSilence(access, args.id);
          return {
            blocks: [`Silence ${args.id} expired.`],
            display: `silence ${args.id} expired`,
            isError: false,
          };
        }
        if (args.matchers.length === 0)
          return refused(
            'action create needs `matchers` (e.g. ["alertname=\\"X\\""]): a silence without them would silence everything',
          );
        const matchers = args.matchers.map((text) => ({ text, matcher: parseMatcher(text) }));
        const bad = matchers.find((entry) => !entry.matcher);
        if (bad)
          return refused(
            `matcher ${JSON.stringify(bad.text)} is not one such as alertname="X" or job=~"api.*"`,
          );
        if (args.comment.trim() === '') return refused('action create needs a `comment` saying why');
        const ms = parseDuration(args.duration);
        if (ms === undefined || ms > MAX_SILENCE_MS)
          return refused(`duration "${args.duration}" must be a duration such as 30m or 2h, at most 7d`);
        const startsAt = new Date();
        const endsAt = new Date(startsAt.getTime() + ms);
        const id = await createSilence(access, {
          matchers: matchers.map((entry) => entry.matcher!),
          startsAt,
          endsAt,
          createdBy: 'opsmate',
          comment: args.comment,
        });
        const what = `${matchers.map((entry) => formatMatcher(entry.matcher!)).join(', ')} until ${isoSeconds(endsAt)} (${formatDuration(ms)})`;
        return {
          blocks: [`Silence ${id} created: ${what}.`],
          display: `silence ${id} created: ${what}`,
          isError: false,
        };
      },
    }),
});

function refused(message: string): MonitoringDraft {
  return { blocks: [`${message}. Nothing was changed.`], display: message, isError: true };
}
