/**
 * A table with a header row: box-drawn on a terminal, aligned plain text otherwise, so it reads
 * well on screen and greps well in a pipe.
 */
export async function renderTable(options: {
  title?: string;
  head: string[];
  rows: string[][];
  isTerminal: boolean;
}): Promise<string> {
  if (!options.isTerminal) {
    const widths = options.head.map((cell, column) =>
      Math.max(cell.length, ...options.rows.map((row) => (row[column] ?? '').length)),
    );
    const line = (row: string[]): string =>
      row
        .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
        .join('  ')
        .trimEnd();
    return [line(options.head), ...options.rows.map(line)].join('\n') + '\n';
  }
  const { default: Table } = await import('cli-table3');
  const table = new Table({ head: options.head, style: { head: ['bold'] } });
  for (const row of options.rows) table.push(row);
  return `${options.title ? `${options.title}\n` : ''}${table.toString()}\n`;
}
