/** One statement's result as the pg client gives it. */
export interface StatementResult {
  /** The command tag's verb: SELECT, INSERT, CREATE... */
  command: string | null;
  rowCount: number | null;
  fields: Array<{ name: string }>;
  rows: Array<Record<string, unknown>>;
}

/**
 * A statement's result as psql prints it (aligned): a table with a row count for statements that
 * return rows, the command tag (`INSERT 0 1`, `CREATE`: the pg client keeps its first word) for the others.
 */
export function formatResult(result: StatementResult): string {
  if (result.fields.length === 0) return `${commandTag(result)}\n`;
  const names = result.fields.map((field) => field.name);
  const cells = result.rows.map((row) => names.map((name) => cellText(row[name])));
  const widths = names.map((name, column) =>
    Math.max(name.length, ...cells.map((row) => longestLine(row[column]!))),
  );
  const line = (values: string[], pad: (text: string, width: number) => string): string =>
    values
      .map((value, column) => ` ${pad(value, widths[column]!)} `)
      .join('|')
      .trimEnd();
  const out = [
    line(names, center),
    widths.map((width) => '-'.repeat(width + 2)).join('+'),
    ...cells.map((row) => line(row, (text, width) => text.padEnd(width))),
    `(${result.rows.length} ${result.rows.length === 1 ? 'row' : 'rows'})`,
  ];
  return `${out.join('\n')}\n`;
}

function commandTag(result: StatementResult): string {
  const command = result.command ?? 'OK';
  if (command === 'INSERT') return `INSERT 0 ${result.rowCount ?? 0}`;
  if (['UPDATE', 'DELETE', 'MERGE', 'MOVE', 'FETCH', 'COPY'].includes(command)) {
    return `${command} ${result.rowCount ?? 0}`;
  }
  return command;
}

function cellText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (value instanceof Date) return value.toISOString();
  if (Buffer.isBuffer(value)) return `\\x${value.toString('hex')}`;
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

function longestLine(text: string): number {
  return Math.max(...text.split('\n').map((line) => line.length));
}

function center(text: string, width: number): string {
  const left = Math.floor((width - text.length) / 2);
  return `${' '.repeat(left)}${text}`.padEnd(width);
}
