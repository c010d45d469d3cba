import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chunkDocument } from './chunk-document.js';

describe('chunkDocument', () => {
  it('splits Markdown by headings, with heading paths and line ranges that point into the file', () => {
    const text = [
      '# Runbook', // 1
      '', // 2
      'Intro.', // 3
      '', // 4
      '## Symptoms', // 5
      'It is slow.', // 6
      '', // 7
      '### Deeper', // 8
      'Details.', // 9
      '', // 10
      '## Fix', // 11
      'Restart it.', // 12
    ].join('\n');
    const chunks = chunkDocument({ path: 'a/runbook.md', text });
    assert.deepEqual(
      chunks.map((chunk) => [chunk.headingPath.join(' > '), chunk.startLine, chunk.endLine]),
      [
        ['Runbook', 1, 3],
        ['Runbook > Symptoms', 5, 6],
        ['Runbook > Symptoms > Deeper', 8, 9],
        ['Runbook > Fix', 11, 12],
      ],
    );
    const lines = text.split('\n');
    for (const chunk of chunks) {
      assert.equal(chunk.content, lines.slice(chunk.startLine - 1, chunk.endLine).join('\n'));
      assert.equal(chunk.title, 'Runbook');
    }
  });

  it('never splits a code block or a table, and cuts long sections with overlap', () => {
    const code = [
      '```sh',
      ...Array.from({ length: 40 }, (_, index) => `echo step ${index} of a long script`),
      '```',
    ];
    const table = [
      '| a | b |',
      '| - | - |',
      ...Array.from({ length: 30 }, (_, index) => `| row ${index} | value ${index} |`),
    ];
    const paragraphs = Array.from({ length: 12 }, (_, index) => `Paragraph ${index} ${'words '.repeat(30)}`);
    const text = ['# Long', '', ...paragraphs.flatMap((p) => [p, '']), ...code, '', ...table, ''].join('\n');
    const chunks = chunkDocument({
      path: 'long.md',
      text,
      limits: { maxChars: 600, overlapChars: 250, wholeFileChars: 100 },
    });
    assert.ok(chunks.length > 3, `${chunks.length} chunks`);
    const withCode = chunks.filter((chunk) => chunk.content.includes('```sh'));
    assert.equal(withCode.length, 1, 'the code block is in one chunk');
    assert.ok(withCode[0]!.content.includes('echo step 39') && withCode[0]!.content.includes('```sh'));
    const withTable = chunks.filter((chunk) => chunk.content.includes('| row 0 |'));
    assert.equal(withTable.length, 1);
    assert.ok(withTable[0]!.content.includes('| row 29 |'), 'the table is whole');
    // Consecutive pieces of the section overlap by at least one paragraph.
    const prose = chunks.filter(
      (chunk) => chunk.content.startsWith('Paragraph') || chunk.content.startsWith('# Long'),
    );
    assert.ok(prose.length >= 2);
    assert.ok(prose[1]!.startLine <= prose[0]!.endLine, 'the second piece starts inside the first');
  });

  it('keeps a small config file whole and splits plain text by paragraphs', () => {
    const yaml = 'apiVersion: v1\nkind: ConfigMap\ndata:\n  key: value\n';
    assert.deepEqual(
      chunkDocument({ path: 'k8s/config.yaml', text: yaml }).map((chunk) => [chunk.startLine, chunk.endLine]),
      [[1, 4]],
    );
    const text = `${'First paragraph line.\n'.repeat(60)}\n${'Second paragraph line.\n'.repeat(60)}`;
    const chunks = chunkDocument({
      path: 'notes.txt',
      text,
      limits: { maxChars: 1500, overlapChars: 0, wholeFileChars: 10 },
    });
    assert.deepEqual(
      chunks.map((chunk) => [chunk.startLine, chunk.endLine]),
      [
        [1, 60],
        [62, 121],
      ],
    );
  });
});
