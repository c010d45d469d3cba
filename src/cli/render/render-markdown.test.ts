import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { stripVTControlCharacters } from 'node:util';
import { loadMarkdownRenderer } from './render-markdown.js';

const ANSWER = `## Diagnosis

The **nginx** workers crash because \`/var/log/nginx\` is full, and this sentence is long enough to be wrapped.

1. Disk usage on \`/var\` is 100%:
   - \`access.log\` is 38 GB
   - logrotate last ran 12 days ago
2. The error log shows \`No space left on device\`.

\`\`\`bash
df -h /var
\`\`\`

| Mount | Use% |
| ----- | ---- |
| /var  | 100% |
`;

describe('renderMarkdown (marked + marked-terminal)', () => {
  it('renders headings, nested lists with inline code, code blocks and tables, wrapped to the width', async () => {
    const render = await loadMarkdownRenderer({ width: () => 50, colors: false });
    const text = render(ANSWER);
    assert.ok(!text.includes('\x1b'), 'no escape sequences without colours');
    assert.match(text, /^Diagnosis\n/, 'a heading without its ## marks');
    assert.doesNotMatch(text, /\*\*|`/, 'no Markdown marks left: bold and code are rendered');
    assert.match(
      text,
      /1\. Disk usage on \/var is 100%:\n\s+\* access\.log is 38 GB\n\s+\* logrotate last ran/,
    );
    assert.match(text, /2\. The error log shows No space left on device\./);
    assert.match(text, /\n\s+df -h \/var\n/, 'the command stays copyable: no line numbers');
    assert.match(text, /│ Mount │ Use% │/);
    for (const line of text.split('\n'))
      assert.ok(line.length <= 50, `wider than 50: ${JSON.stringify(line)}`);
  });

  it('colours when asked, with the same text underneath', async () => {
    const plain = (await loadMarkdownRenderer({ width: () => 80, colors: false }))(ANSWER);
    const coloured = (await loadMarkdownRenderer({ width: () => 80, colors: true }))(ANSWER);
    assert.equal(stripVTControlCharacters(coloured), plain);
  });
});
