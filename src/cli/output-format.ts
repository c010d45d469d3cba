import { Option } from 'commander';
import { ConfigError } from '../errors/opsmate-error.js';

/** How a command prints its result: for people (`text`), or for scripts. */
export type OutputFormat = 'text' | 'json' | 'jsonl';

/** `-o, --output FORMAT`; `formats` are the ones the command has besides text. */
export function outputOption(formats: readonly Exclude<OutputFormat, 'text'>[] = ['json']): Option {
  const choices = ['text', ...formats];
  return new Option(
    '-o, --output <FORMAT>',
    `print ${formats.includes('jsonl') ? 'the result as JSON (json: one object at the end; jsonl: one event per line as it happens)' : 'the result as JSON'} instead of text (one of: ${choices.join(', ')}) [default: text]`,
  );
}

/** Reads `-o/--output`, or throws a ConfigError naming the choices. */
export function parseOutputFormat(
  text: string | undefined,
  formats: readonly Exclude<OutputFormat, 'text'>[] = ['json'],
): OutputFormat {
  if (text === undefined) return 'text';
  const choices: readonly string[] = ['text', ...formats];
  if (choices.includes(text)) return text as OutputFormat;
  throw new ConfigError(
    `--output ${JSON.stringify(text)} is not valid: expected one of ${choices.join(', ')}`,
    {
      hint: `e.g. -o json`,
    },
  );
}

/** Writes one JSON document and a newline. */
export function writeJson(out: NodeJS.WritableStream, value: unknown): void {
  out.write(`${JSON.stringify(value, null, 2)}\n`);
}
