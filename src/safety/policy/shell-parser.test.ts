import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { loadShellParser, parsePlainCommand } from './shell-parser.js';

const parser = await loadShellParser();

function corpus(name: string): string[] {
  return readFileSync(new URL(`../../../bench/corpora/${name}`, import.meta.url), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.startsWith('#'))
    .map((line) => (line.startsWith('@json ') ? (JSON.parse(line.slice(6)) as string) : line));
}

/** A small seeded generator, so the generated lines are the same on every run. */
function random(seed: number): (below: number) => number {
  let state = seed >>> 0;
  return (below) => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return (((value ^ (value >>> 14)) >>> 0) % below) as number;
  };
}

const words = (source: string) =>
  parser.parseWithTreeSitter(source).commands.map((command) => command.words.map((word) => word.text));

describe('parsePlainCommand, the fast path', () => {
  it('gives exactly what the tree-sitter walk gives, on every corpus line it reads', () => {
    let read = 0;
    for (const line of [...corpus('read-only-commands.txt'), ...corpus('destructive-commands.txt')]) {
      const fast = parsePlainCommand(line);
      if (!fast) continue;
      read++;
      assert.deepEqual(fast, parser.parseWithTreeSitter(line), line);
    }
    // Most of what an investigation types needs no tree-sitter.
    assert.ok(read > 600, `only ${read} corpus lines took the fast path`);
  });

  it('gives exactly what the tree-sitter walk gives, on generated lines', () => {
    const atoms = [
      'ls',
      '-la',
      'grep',
      'kubectl',
      'get',
      "'a b'",
      '"x y"',
      'A=1',
      'x=y',
      '*.log',
      'a?c',
      '--since=1h',
      "'{{.Names}}'",
      '2>&1',
      '2>/dev/null',
      '>',
      '>>',
      '<',
      '&>',
      '>&2',
      '|',
      '||',
      '&&',
      ';',
      '/var/log',
      "''",
      'a"b"c',
      'f',
      '1',
      '%s',
      '@x',
      'u@h',
      'x+y',
      'a,b',
      'tail',
      '-n',
      '20',
      'export',
      'if',
      '#c',
      '&',
      '!',
    ];
    const next = random(10);
    let read = 0;
    for (let index = 0; index < 20_000; index++) {
      const parts = Array.from({ length: 1 + next(7) }, () => atoms[next(atoms.length)]!);
      const line = parts.join(next(5) === 0 ? '' : ' ');
      const fast = parsePlainCommand(line);
      if (!fast) continue;
      read++;
      assert.deepEqual(fast, parser.parseWithTreeSitter(line), JSON.stringify(line));
    }
    assert.ok(read > 1000, `only ${read} generated lines took the fast path`);
  });

  it('leaves to tree-sitter what it does not read fully', () => {
    for (const line of [
      'sleep 1 &',
      'echo $HOME',
      'echo "$(id)"',
      'echo `id`',
      'cat <<EOF\nx\nEOF',
      'cat <<< x',
      'diff <(ls a) <(ls b)',
      'a |& b',
      'ls \\\n -la',
      'ls # comment',
      'if true; then ls; fi',
      '{ ls; }',
      '(ls)',
      'x?y -la',
      "'ls' -la",
      'export A=1',
      'ls |',
      'ls &&',
      'echo "a\\"b"',
      'echo ~/x',
      'ls {a,b}',
      'echo a[1]',
    ])
      assert.equal(parsePlainCommand(line), undefined, line);
  });
});

describe('the tree-sitter walk', () => {
  it('gives a command the words that follow a redirection (they are its arguments)', () => {
    assert.deepEqual(words('find 2>/dev/null / -delete'), [['find', '/', '-delete']]);
    assert.deepEqual(words('rm 2>/dev/null -rf /srv/data'), [['rm', '-rf', '/srv/data']]);
    assert.deepEqual(words('ls > out a b > x c'), [['ls', 'a', 'b', 'c']]);
    assert.deepEqual(words('x=1 cmd 2>/dev/null arg'), [['cmd', 'arg']]);
  });

  it("gives a pipeline's or a list's last command the redirection and the words after it, as bash does", () => {
    const piped = parser.parseWithTreeSitter('ls | xargs > /dev/null rm -rf');
    assert.deepEqual(
      piped.commands.map((command) => command.words.map((word) => word.text)),
      [['ls'], ['xargs', 'rm', '-rf']],
    );
    assert.equal(piped.commands[1]?.redirects[0]?.target.text, '/dev/null');
    assert.deepEqual(piped.constructs, []);
    const listed = parser.parseWithTreeSitter('true && : > /var/log/syslog');
    assert.equal(listed.commands[1]?.redirects[0]?.target.text, '/var/log/syslog');
    const grouped = parser.parseWithTreeSitter('{ ls; } > /tmp/out');
    assert.equal(grouped.constructs[0]?.kind, 'compound-redirect');
  });

  it('makes a redirection alone a command with no words', () => {
    const parsed = parser.parseWithTreeSitter('> /var/log/syslog');
    assert.equal(parsed.commands.length, 1);
    assert.deepEqual(parsed.commands[0]?.words, []);
    assert.equal(parsed.commands[0]?.redirects[0]?.target.text, '/var/log/syslog');
  });
});
