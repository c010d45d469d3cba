/**
 * The shell parser of the command policy: tree-sitter-bash (through web-tree-sitter, loaded
 * lazily, once) turned into the few things the policy judges: every simple command a line would
 * run, wherever it sits (pipelines, lists, `$(...)`, backticks, `<(...)`, arithmetic, parameter
 * expansions, `[[ ]]`, here-documents, function bodies), and the constructs that are not simple
 * commands but matter (arithmetic evaluation, function definitions, indirect and prompt
 * expansions, assignments, redirections of compound commands). Nothing is run or expanded.
 * Whatever the parser could not follow is a `problem`; the policy then asks instead of guessing.
 * See docs/safety.md for why this parser was chosen (measured against the others).
 */
import { createRequire } from 'node:module';
import type { Node as SyntaxNode, Parser as TreeSitterParser } from 'web-tree-sitter';

/** One word of a simple command. */
export interface ShellWord {
  /** The word after quote removal; expansions stay as written, e.g. `$HOME` or `$(date)`. */
  text: string;
  /** Part of the word is only known when the shell runs: parameter, command or arithmetic expansion. */
  dynamic: boolean;
  /** Holds an unquoted glob (`*?[`), brace (`{a,b}`) or extglob pattern the shell may expand. */
  pattern: boolean;
}

export interface Redirect {
  /** `>`, `>>`, `<`, `<<`, `<<<`, `&>`, `>&`, `<&`, `>|`, `<>`, `&>>`. */
  operator: string;
  /** The file descriptor written before the operator (`2>`), when there is one. */
  fd?: string;
  target: ShellWord;
}

export interface Assignment {
  name: string;
  value?: ShellWord;
}

export interface SimpleCommand {
  /** Command name and arguments; leading `NAME=value` assignments are in `assignments`. */
  words: ShellWord[];
  assignments: Assignment[];
  redirects: Redirect[];
  /** Text a here-document or here-string feeds to the command's stdin. */
  stdinText?: string;
  /** The stdin text holds expansions, so its final content is only known at run time. */
  stdinDynamic?: boolean;
  /** The command reads the previous stage of a pipeline on its stdin. */
  pipedInput: boolean;
  /** Command names of the earlier pipeline stages (`curl ... | sh`). */
  upstream: string[];
  /** Where the command sits, outermost first: `$(...)`, `function f`, `<(...)`... */
  context: string[];
}

/** Something the shell does that is not a simple command, for the profiles to judge. */
export type Construct =
  /** `name() { ...; }`: defines a function a later command may call. */
  | { kind: 'function-definition'; name: string; text: string }
  /**
   * Arithmetic evaluation: `$((...))`, `((...))`, `let`, `for ((...))`, array subscripts,
   * `${x:offset:length}`, and the operands of `[[ a -eq b ]]`. Bash evaluates the *values* of
   * variables named there as expressions too, so `x='a[$(cmd)]'; echo $((x))` runs `cmd`.
   * `literal` is true when the text holds only numbers and operators.
   */
  | { kind: 'arithmetic'; text: string; literal: boolean }
  /** `${!name}`: the value names another variable. */
  | { kind: 'indirect-expansion'; text: string }
  /** `${x@P}`: prompt expansion, which runs the command substitutions in the value. */
  | { kind: 'prompt-expansion'; text: string }
  /** `NAME=value` as a statement of its own (it stays set for later statements). */
  | { kind: 'assignment'; name: string; value?: ShellWord; text: string }
  /** A redirection of a compound command: `{ ...; } > file`, `while ...; done < file`. */
  | { kind: 'compound-redirect'; redirect: Redirect; text: string }
  /** `[[ -v name ]]` and other tests that evaluate a subscript. */
  | { kind: 'test-variable'; text: string; literal: boolean };

export interface ParsedShell {
  commands: SimpleCommand[];
  constructs: Construct[];
  /** Syntax the parser could not follow (a syntax error, an unsupported construct, too deep). */
  problems: string[];
}

/** Deeper nesting than this is reported as a problem rather than followed. */
const MAX_DEPTH = 24;

/** Builtins whose arguments are assignments: parsed fully so their names are judged. */
const DECLARATIONS = new Set(['export', 'declare', 'typeset', 'local', 'readonly']);
const RESERVED_WORDS = new Set([
  'if',
  'then',
  'else',
  'elif',
  'fi',
  'do',
  'done',
  'while',
  'until',
  'for',
  'in',
  'case',
  'esac',
  'select',
  'function',
  'time',
  'coproc',
  '{',
  '}',
  '!',
  '[[',
  ']]',
]);

/** Characters of an unquoted word the fast path reads: no expansions, brackets, braces or `~`. */
const PLAIN_WORD_CHAR = /[A-Za-z0-9_./:=,@%+*?^-]/;
/** A command name the fast path reads. */
const PLAIN_COMMAND_NAME = /^[A-Za-z0-9_./-]+$/;
/** Inside double quotes: nothing the shell would expand or unescape. */
const PLAIN_DOUBLE_QUOTED = /^[^"$`\\\n!]*$/;
/** A redirection the fast path reads: `>`, `>>`, `<`, `2>`, `2>>`, `&>`, `2>&1`. */
const SIMPLE_REDIRECT = /(\d?)(>>|>&|>|<)(?![>&|(<])|&>(?![>&])/y;

/**
 * Parses a line of plain commands (`df -h /`, `ps aux | grep nginx | head -5`, `systemctl status
 * nginx && journalctl -u nginx -n 50 2>&1`) without the full parser: words of plain characters
 * and simple quotes, joined by `|`, `&&`, `||` and `;`, with simple redirections. Most commands an
 * investigation runs look like that. Gives exactly what the tree-sitter walk gives for such a line
 * (a test checks it on the corpora); undefined for anything else.
 */
export function parsePlainCommand(source: string): ParsedShell | undefined {
  if (source.length > 4096) return undefined;
  const result: ParsedShell = { commands: [], constructs: [], problems: [] };
  let command = newCommand([]);
  let stages: SimpleCommand[] = [];
  let pendingAssignments: Array<{ assignment: Assignment; text: string }> = [];
  let position = 0;
  let afterOperator = true;
  let lastOperator = '';
  const endCommand = (piped: boolean): boolean => {
    redirectBeforeWord = false;
    if (command.words.length === 0) {
      if (command.redirects.length > 0 || stages.length > 0 || piped) return false;
      for (const { assignment, text } of pendingAssignments)
        result.constructs.push({
          kind: 'assignment',
          name: assignment.name,
          ...(assignment.value ? { value: assignment.value } : {}),
          text,
        });
    } else {
      stages.push(command);
    }
    pendingAssignments = [];
    command = newCommand([]);
    return true;
  };
  let redirectBeforeWord = false;
  // `a && b 2>&1 | c`: tree-sitter-bash groups that differently from bash; leave it to tree-sitter.
  let sawPipe = false;
  let sawAndOr = false;
  let sawRedirect = false;
  const endPipeline = (): void => {
    const upstream: string[] = [];
    stages.forEach((stage, index) => {
      stage.pipedInput = index > 0;
      stage.upstream = [...upstream];
      upstream.push(stage.words[0]!.text);
      result.commands.push(stage);
    });
    stages = [];
  };
  while (position < source.length) {
    const char = source[position]!;
    if (char === ' ' || char === '\t') {
      position++;
      continue;
    }
    if (char === '|' || char === ';' || (char === '&' && source[position + 1] === '&')) {
      const double = source[position + 1] === char;
      if (char === ';' && double) return undefined;
      if (afterOperator || (char === '|' && source[position + 1] === '&')) return undefined;
      const piped = char === '|' && !double;
      if (piped) sawPipe = true;
      else if (char !== ';') sawAndOr = true;
      // Where tree-sitter would hoist a redirect out of a pipeline stage, leave it to tree-sitter.
      if (redirectBeforeWord && (piped || stages.length > 0)) return undefined;
      if (!endCommand(piped)) return undefined;
      if (!piped) endPipeline();
      position += double ? 2 : 1;
      afterOperator = true;
      lastOperator = double ? char + char : char;
      continue;
    }
    SIMPLE_REDIRECT.lastIndex = position;
    const redirect = SIMPLE_REDIRECT.exec(source);
    if (redirect) {
      // Glued to the word before (`-la2>&1`), tree-sitter-bash reads the word as a descriptor;
      // before the command's name, it reads the words after it as its targets.
      if (position > 0 && !/[ \t|;&]/.test(source[position - 1]!)) return undefined;
      if (command.words.length === 0) return undefined;
      sawRedirect = true;
      position = SIMPLE_REDIRECT.lastIndex;
      while (source[position] === ' ' || source[position] === '\t') position++;
      const target = readWord(source, position);
      if (!target || target.text === '') return undefined;
      position = target.end;
      const operator = redirect[2] ?? '&>';
      if (operator === '>&' && !/^\d$/.test(target.text)) return undefined;
      command.redirects.push({
        operator,
        ...(redirect[1] ? { fd: redirect[1] } : {}),
        target: { text: target.text, dynamic: false, pattern: target.pattern },
      });
      afterOperator = false;
      continue;
    }
    const word = readWord(source, position);
    if (!word) return undefined;
    position = word.end;
    afterOperator = false;
    if (command.redirects.length > 0) redirectBeforeWord = true;
    if (command.words.length === 0) {
      const assignment = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(word.raw);
      if (assignment) {
        if (word.quoted) return undefined;
        const value: ShellWord = { text: assignment[2]!, dynamic: false, pattern: word.pattern };
        command.assignments.push({ name: assignment[1]!, value });
        pendingAssignments.push({ assignment: { name: assignment[1]!, value }, text: word.raw });
        continue;
      }
      // A command name of other characters (`a?c`, `x@y`, quoted): tree-sitter-bash reads some of
      // those oddly; leave them to it.
      if (RESERVED_WORDS.has(word.raw) || DECLARATIONS.has(word.text) || !PLAIN_COMMAND_NAME.test(word.raw))
        return undefined;
    }
    command.words.push({ text: word.text, dynamic: false, pattern: word.pattern });
  }
  // A line may end with `;`, not with `|`, `&&` or `||` (the shell would read on).
  if (afterOperator && lastOperator !== ';') return undefined;
  if (redirectBeforeWord && stages.length > 0) return undefined;
  if (sawPipe && sawAndOr && sawRedirect) return undefined;
  if (!afterOperator && !endCommand(false)) return undefined;
  endPipeline();
  if (result.commands.length === 0 && result.constructs.length === 0) return undefined;
  return result;
}

/** One word of plain characters and simple quotes, from `start`; undefined when it is not that simple. */
function readWord(
  source: string,
  start: number,
): { text: string; raw: string; end: number; quoted: boolean; pattern: boolean } | undefined {
  let position = start;
  let text = '';
  let quoted = false;
  let unquoted = '';
  while (position < source.length) {
    const char = source[position]!;
    if (char === "'" || char === '"') {
      const close = source.indexOf(char, position + 1);
      if (close < 0) return undefined;
      const body = source.slice(position + 1, close);
      if (body.includes('\n') || (char === '"' && !PLAIN_DOUBLE_QUOTED.test(body))) return undefined;
      text += body;
      quoted = true;
      position = close + 1;
      continue;
    }
    if (!PLAIN_WORD_CHAR.test(char)) break;
    text += char;
    unquoted += char;
    position++;
  }
  if (position === start) return undefined;
  const next = source[position];
  if (next !== undefined && next !== ' ' && next !== '\t' && !/[|;&<>]/.test(next)) return undefined;
  return {
    text,
    raw: source.slice(start, position),
    end: position,
    quoted,
    pattern: /[*?]/.test(unquoted),
  };
}

/** A loaded parser: parsing is synchronous once it is loaded. */
export interface ShellParser {
  parse(source: string): ParsedShell;
  /** Parses with tree-sitter even where the plain fast path would do (to check one against the other). */
  parseWithTreeSitter(source: string): ParsedShell;
}

let loading: Promise<ShellParser> | undefined;

/**
 * Loads tree-sitter and its bash grammar (WebAssembly, ~1.5 MB) on first use and keeps it for
 * the process. Commands that never judge a shell command never pay for it.
 */
export function loadShellParser(): Promise<ShellParser> {
  loading ??= (async () => {
    const { Parser, Language } = await import('web-tree-sitter');
    await Parser.init();
    const wasm = createRequire(import.meta.url).resolve('tree-sitter-bash/tree-sitter-bash.wasm');
    const language = await Language.load(wasm);
    const parser = new Parser();
    parser.setLanguage(language);
    return {
      parse: (source: string) => parseWith(parser, source, 0),
      parseWithTreeSitter: (source: string) => parseWith(parser, source, 0, false),
    };
  })();
  loading.catch(() => (loading = undefined));
  return loading;
}

function parseWith(parser: TreeSitterParser, source: string, depth: number, fast = true): ParsedShell {
  const plain = fast ? parsePlainCommand(source) : undefined;
  if (plain) return plain;
  const result: ParsedShell = { commands: [], constructs: [], problems: [] };
  if (depth > MAX_DEPTH) {
    result.problems.push('commands are nested too deeply to check');
    return result;
  }
  const tree = parser.parse(source);
  if (!tree) {
    result.problems.push('the shell parser gave no result');
    return result;
  }
  try {
    new Converter({ parser, source, depth, result }).statement(tree.rootNode, ROOT);
    // Catches what the walk did not visit (a missing `)` of `$(`, an error inside a token).
    if (tree.rootNode.hasError && result.problems.length === 0)
      result.problems.push('the command has a syntax error or is incomplete');
  } finally {
    tree.delete();
  }
  return result;
}

interface Place {
  pipedInput: boolean;
  upstream: string[];
  context: string[];
}

const ROOT: Place = { pipedInput: false, upstream: [], context: [] };

const STATEMENT_TYPES = new Set([
  'program',
  'compound_statement',
  'do_group',
  'else_clause',
  'elif_clause',
  'if_statement',
  'while_statement',
  'list',
  'negated_command',
  'subshell',
  'for_statement',
  'c_style_for_statement',
  'case_statement',
  'case_item',
  'pipeline',
  'redirected_statement',
  'command',
  'declaration_command',
  'unset_command',
  'test_command',
  'variable_assignment',
  'variable_assignments',
  'function_definition',
]);
const REDIRECT_TYPES = new Set(['file_redirect', 'heredoc_redirect', 'herestring_redirect']);
const ARITHMETIC_TEST_OPERATORS = new Set(['-eq', '-ne', '-lt', '-le', '-gt', '-ge']);

class Converter {
  readonly #parser: TreeSitterParser;
  readonly #source: string;
  readonly #depth: number;
  readonly #result: ParsedShell;

  constructor(options: { parser: TreeSitterParser; source: string; depth: number; result: ParsedShell }) {
    this.#parser = options.parser;
    this.#source = options.source;
    this.#depth = options.depth;
    this.#result = options.result;
  }

  #problem(message: string): void {
    if (!this.#result.problems.includes(message)) this.#result.problems.push(message);
  }

  #checkNode(node: SyntaxNode): void {
    if (node.isMissing) this.#problem(`the command is incomplete: a ${node.type} is missing`);
    else if (node.type === 'ERROR') this.#problem(`the shell parser could not follow: ${clip(node.text)}`);
  }

  statement(node: SyntaxNode, place: Place): void {
    this.#checkNode(node);
    switch (node.type) {
      case 'comment':
      case ';':
        return;
      case 'pipeline':
        this.#pipeline(node, place);
        return;
      case 'redirected_statement':
        this.#redirected(node, place);
        return;
      case 'command':
        this.#command(node, place, []);
        return;
      case 'declaration_command':
      case 'unset_command':
        this.#declaration(node, place);
        return;
      case 'test_command':
        return this.#test(node, place);
      case 'variable_assignment':
        return this.#assignment(node, place);
      case 'function_definition':
        return this.#functionDefinition(node, place);
      case 'compound_statement':
        if (node.text.startsWith('((')) {
          this.#arithmetic(node, place);
          return;
        }
        return this.#children(node, place);
      case 'c_style_for_statement':
        for (const child of node.namedChildren) {
          if (!child) continue;
          if (child.type === 'do_group' || child.type === 'compound_statement')
            this.statement(child, inner(place));
          else this.#arithmetic(child, place);
        }
        return;
      case 'for_statement':
      case 'case_statement':
      case 'case_item':
        for (const child of node.namedChildren) {
          if (!child) continue;
          if (child.type === 'variable_name') continue;
          if (STATEMENT_TYPES.has(child.type)) this.statement(child, inner(place));
          else this.word(child, place);
        }
        return;
      case 'ERROR':
        // Still look inside, so the reason names what was seen; the decision is `ask` anyway.
        return this.#children(node, place);
      default:
        if (STATEMENT_TYPES.has(node.type)) return this.#children(node, place);
        if (REDIRECT_TYPES.has(node.type)) {
          this.#problem(`a redirection the parser could not place: ${clip(node.text)}`);
          return;
        }
        this.#problem(`unsupported shell construct ${node.type}: ${clip(node.text)}`);
        this.word(node, place);
    }
  }

  #children(node: SyntaxNode, place: Place): void {
    for (const child of node.children) {
      if (!child) continue;
      if (!child.isNamed) {
        this.#checkNode(child);
        continue;
      }
      if (STATEMENT_TYPES.has(child.type) || child.type === 'ERROR' || child.type === 'comment')
        this.statement(child, inner(place));
      else this.word(child, place);
    }
  }

  /** Returns the simple command of the last stage, when it is one. */
  #pipeline(node: SyntaxNode, place: Place): SimpleCommand | undefined {
    const upstream: string[] = [];
    let index = 0;
    let last: SimpleCommand | undefined;
    for (const child of node.namedChildren) {
      if (!child) continue;
      const stagePlace: Place = {
        pipedInput: index > 0 || place.pipedInput,
        upstream: [...place.upstream, ...upstream],
        context: place.context,
      };
      last = undefined;
      if (child.type === 'command') last = this.#command(child, stagePlace, []);
      else if (child.type === 'redirected_statement') last = this.#redirected(child, stagePlace);
      else this.statement(child, stagePlace);
      upstream.push(stageName(child));
      index++;
    }
    return last;
  }

  /** Returns the simple command redirected, when the body is one. */
  #redirected(node: SyntaxNode, place: Place): SimpleCommand | undefined {
    const body = node.childForFieldName('body');
    const redirects: SyntaxNode[] = [];
    const after: SyntaxNode[] = [];
    for (const child of node.namedChildren) {
      if (!child || child === body || child.id === body?.id) continue;
      if (REDIRECT_TYPES.has(child.type)) redirects.push(child);
      else after.push(child);
    }
    let command: SimpleCommand | undefined;
    if (body && body.type === 'command') {
      command = this.#command(body, place, redirects);
      // tree-sitter-bash puts what follows a here-document's start on that line (`| sh`,
      // `&& cmd`) inside the redirect node; a pipeline there reads the command's output.
      for (const redirect of redirects) this.#heredocTail(redirect, place, command);
    } else if (!body) {
      // `> file` alone: a command with no words (it empties or creates the file).
      command = newCommand(place.context);
      command.pipedInput = place.pipedInput;
      command.upstream = place.upstream;
      for (const redirect of redirects) this.#addRedirect(command, redirect, place);
      this.#result.commands.push(command);
      for (const redirect of redirects) this.#heredocTail(redirect, place, command);
    } else {
      // tree-sitter-bash reads `a | b > f c` and `a && b 2>&1` as the pipeline or list
      // redirected; bash redirects `b` alone (and gives it `c`). So do that when the body ends
      // with a simple command; a compound body (`{ ...; } > f`) keeps a redirect of its own.
      const last =
        body?.type === 'pipeline' || body?.type === 'list' ? this.#lastCommandOf(body, place) : undefined;
      if (body && body.type !== 'pipeline' && body.type !== 'list') this.statement(body, place);
      for (const redirect of redirects) {
        if (last) {
          this.#addRedirect(last, redirect, place);
          this.#heredocTail(redirect, place, last);
          continue;
        }
        const converted = this.#redirect(redirect, place);
        if (converted) {
          this.#result.constructs.push({
            kind: 'compound-redirect',
            redirect: converted.redirect,
            text: clip(node.text),
          });
          if (converted.words.length > 0)
            this.#problem(`words after the redirection of a compound command: ${clip(redirect.text)}`);
        }
        this.#heredocTail(redirect, place, undefined);
      }
    }
    for (const child of after) this.statement(child, inner(place));
    return command;
  }

  /** Converts a pipeline or list and returns the simple command it ends with, if it ends with one. */
  #lastCommandOf(node: SyntaxNode, place: Place): SimpleCommand | undefined {
    this.#checkNode(node);
    switch (node.type) {
      case 'command':
        return this.#command(node, place, []);
      case 'redirected_statement':
        return this.#redirected(node, place);
      case 'pipeline':
        return this.#pipeline(node, place);
      case 'list': {
        const children = node.children.filter((child): child is SyntaxNode => child !== null);
        const lastNamed = children.filter((child) => child.isNamed).at(-1);
        let last: SimpleCommand | undefined;
        for (const child of children) {
          if (!child.isNamed) {
            this.#checkNode(child);
            continue;
          }
          if (child.id === lastNamed?.id) last = this.#lastCommandOf(child, inner(place));
          else if (STATEMENT_TYPES.has(child.type) || child.type === 'ERROR' || child.type === 'comment')
            this.statement(child, inner(place));
          else this.word(child, place);
        }
        return last;
      }
      default:
        this.statement(node, place);
        return undefined;
    }
  }

  #heredocTail(redirect: SyntaxNode, place: Place, command: SimpleCommand | undefined): void {
    if (redirect.type !== 'heredoc_redirect') return;
    for (const child of redirect.namedChildren) {
      if (!child || child.type.startsWith('heredoc_')) continue;
      if (child.type === 'file_redirect') {
        const converted = this.#redirect(child, place);
        if (converted && command) {
          command.redirects.push(converted.redirect);
          command.words.push(...converted.words);
        } else if (converted)
          this.#result.constructs.push({
            kind: 'compound-redirect',
            redirect: converted.redirect,
            text: clip(redirect.text),
          });
        if (converted && !command && converted.words.length > 0)
          this.#problem(`words after the redirection of a compound command: ${clip(redirect.text)}`);
        continue;
      }
      if (child.type === 'pipeline') {
        const name = command ? (command.words[0]?.text ?? '') : '( ... )';
        this.#pipeline(child, { ...place, pipedInput: true, upstream: [...place.upstream, name] });
        continue;
      }
      this.statement(child, inner(place));
    }
  }

  #command(node: SyntaxNode, place: Place, extraRedirects: SyntaxNode[]): SimpleCommand {
    const command = newCommand(place.context);
    command.pipedInput = place.pipedInput;
    command.upstream = place.upstream;
    for (const child of node.children) {
      if (!child) continue;
      this.#checkNode(child);
      if (!child.isNamed) continue;
      if (child.type === 'variable_assignment') {
        command.assignments.push(this.#assignmentParts(child, place));
      } else if (REDIRECT_TYPES.has(child.type)) {
        this.#addRedirect(command, child, place);
      } else if (child.type === 'command_name') {
        const name = child.namedChildren[0];
        command.words.push(
          name ? this.word(name, place) : { text: child.text, dynamic: false, pattern: false },
        );
      } else if (child.type === 'comment') {
        continue;
      } else if (STATEMENT_TYPES.has(child.type)) {
        this.#problem(`unexpected ${child.type} inside a command: ${clip(child.text)}`);
        this.statement(child, inner(place));
      } else {
        command.words.push(this.word(child, place));
      }
    }
    for (const redirect of extraRedirects) this.#addRedirect(command, redirect, place);
    this.#result.commands.push(command);
    return command;
  }

  #addRedirect(command: SimpleCommand, node: SyntaxNode, place: Place): void {
    const converted = this.#redirect(node, place);
    if (!converted) return;
    command.redirects.push(converted.redirect);
    command.words.push(...converted.words);
    if (converted.stdinText !== undefined) {
      command.stdinText = converted.stdinText;
      command.stdinDynamic = converted.stdinDynamic ?? false;
    }
  }

  #redirect(
    node: SyntaxNode,
    place: Place,
  ): { redirect: Redirect; words: ShellWord[]; stdinText?: string; stdinDynamic?: boolean } | undefined {
    const fd = node.childForFieldName('descriptor')?.text;
    const operatorNode = node.children.find((child) => child !== null && !child.isNamed);
    const operator = operatorNode?.type ?? '';
    const base = fd !== undefined ? { fd } : {};
    if (node.type === 'herestring_redirect') {
      const value = node.namedChildren.find((child) => child !== null && child.type !== 'file_descriptor');
      const target = value ? this.word(value, place) : EMPTY_WORD;
      return {
        redirect: { operator: '<<<', ...base, target },
        words: [],
        stdinText: target.text,
        stdinDynamic: target.dynamic,
      };
    }
    if (node.type === 'heredoc_redirect') {
      const start = node.namedChildren.find((child) => child?.type === 'heredoc_start');
      const body = node.namedChildren.find((child) => child?.type === 'heredoc_body');
      const quoted = start !== undefined && start !== null && /['"\\]/.test(start.text);
      let text = body?.text ?? '';
      if (text.endsWith('\n')) text = text.slice(0, -1);
      if (operator === '<<-') text = text.replace(/^\t+/gm, '');
      let dynamic = false;
      if (body && !quoted) {
        for (const child of body.namedChildren) {
          if (!child || child.type === 'heredoc_content') continue;
          dynamic = true;
          // Substitutions are read from the text below (tree-sitter takes `$((1+2))` there for
          // a subshell); expansions (`${x@P}`) are judged here.
          if (child.type !== 'command_substitution') this.word(child, place);
        }
        // tree-sitter-bash does not see substitutions in `<<-` bodies nor backticks in any body;
        // the shell runs them all, so the body's text is read for them too.
        if (this.#textSubstitutions(body.text, place, 'here-document')) dynamic = true;
      }
      const delimiter = (start?.text ?? '').replace(/['"\\]/g, '');
      return {
        redirect: {
          operator: operator || '<<',
          ...base,
          target: { text: delimiter, dynamic: false, pattern: false },
        },
        words: [],
        stdinText: text,
        stdinDynamic: dynamic,
      };
    }
    // tree-sitter-bash makes every word after the target a `destination` too (`find 2>/dev/null /
    // -delete`); for bash they are arguments of the command, so they are returned as its words.
    const destinations = node.childrenForFieldName('destination').filter((child) => child !== null);
    const destination = destinations[0] ?? node.namedChildren.at(-1);
    const target =
      destination && destination.type !== 'file_descriptor' ? this.word(destination, place) : EMPTY_WORD;
    const words: ShellWord[] = [];
    for (const child of node.namedChildren) {
      if (!child || child.id === destination?.id || child.type === 'file_descriptor') continue;
      const word = this.word(child, place);
      if (destinations.some((other) => other.id === child.id)) words.push(word);
    }
    return { redirect: { operator, ...base, target }, words };
  }

  #declaration(node: SyntaxNode, place: Place): void {
    const command = newCommand(place.context);
    command.pipedInput = place.pipedInput;
    command.upstream = place.upstream;
    const keyword = node.children.find((child) => child !== null && !child.isNamed);
    command.words.push({ text: keyword?.type ?? node.type, dynamic: false, pattern: false });
    for (const child of node.namedChildren) {
      if (!child) continue;
      this.#checkNode(child);
      if (child.type === 'variable_assignment') {
        const parts = this.#assignmentParts(child, place);
        const value = parts.value;
        command.words.push({
          text: `${parts.name}=${value?.text ?? ''}`,
          dynamic: value?.dynamic ?? false,
          pattern: false,
        });
        this.#result.constructs.push({
          kind: 'assignment',
          name: parts.name,
          ...(value ? { value } : {}),
          text: clip(child.text),
        });
      } else if (REDIRECT_TYPES.has(child.type)) {
        this.#addRedirect(command, child, place);
      } else {
        command.words.push(this.word(child, place));
      }
    }
    this.#result.commands.push(command);
  }

  #assignment(node: SyntaxNode, place: Place): void {
    const parts = this.#assignmentParts(node, place);
    this.#result.constructs.push({
      kind: 'assignment',
      name: parts.name,
      ...(parts.value ? { value: parts.value } : {}),
      text: clip(node.text),
    });
  }

  #assignmentParts(node: SyntaxNode, place: Place): Assignment {
    const nameNode = node.childForFieldName('name');
    const valueNode = node.childForFieldName('value');
    let name = nameNode?.text ?? '';
    if (nameNode?.type === 'subscript') {
      const variable = nameNode.childForFieldName('name');
      const index = nameNode.childForFieldName('index');
      name = variable?.text ?? name;
      if (index) this.#subscript(index, place);
    }
    if (!valueNode) return { name };
    return { name, value: this.word(valueNode, place) };
  }

  #functionDefinition(node: SyntaxNode, place: Place): void {
    const name = node.childForFieldName('name')?.text ?? '';
    this.#result.constructs.push({ kind: 'function-definition', name, text: clip(node.text) });
    const context = {
      ...place,
      pipedInput: false,
      upstream: [],
      context: [...place.context, `function ${name}`],
    };
    for (const child of node.namedChildren) {
      if (!child || child.type === 'word') continue;
      if (REDIRECT_TYPES.has(child.type)) this.#unattachedRedirect(child, context);
      else this.statement(child, context);
    }
  }

  /** A redirection with no simple command to belong to: words after its target cannot be placed. */
  #unattachedRedirect(node: SyntaxNode, place: Place): void {
    const converted = this.#redirect(node, place);
    if (converted && converted.words.length > 0)
      this.#problem(`words after a redirection the parser could not place: ${clip(node.text)}`);
  }

  #test(node: SyntaxNode, place: Place): void {
    const visit = (expression: SyntaxNode): void => {
      this.#checkNode(expression);
      if (expression.type === 'binary_expression') {
        const operator = expression.childForFieldName('operator')?.text;
        if (operator && ARITHMETIC_TEST_OPERATORS.has(operator) && node.text.startsWith('[[')) {
          for (const side of ['left', 'right']) {
            const operand = expression.childForFieldName(side);
            if (!operand) continue;
            const word = this.word(operand, place);
            this.#arithmeticText(word, place);
          }
          return;
        }
      }
      if (expression.type === 'unary_expression') {
        const operator = expression.childForFieldName('operator')?.text;
        // `[[ -v ]]`, and the `[` builtin too: both evaluate a subscript in the name as arithmetic.
        if (operator === '-v') {
          for (const operand of expression.namedChildren) {
            if (!operand || operand.type === 'test_operator') continue;
            const word = this.word(operand, place);
            if (word.dynamic || word.text.includes('['))
              this.#result.constructs.push({
                kind: 'test-variable',
                text: clip(expression.text),
                literal: !word.dynamic && !/[$`]/.test(word.text),
              });
            if (!word.dynamic && word.text.includes('[')) this.#arithmeticText(word, place);
          }
          return;
        }
      }
      for (const child of expression.namedChildren) {
        if (!child) continue;
        if (['binary_expression', 'unary_expression', 'parenthesized_expression'].includes(child.type))
          visit(child);
        else if (child.type !== 'test_operator') this.word(child, place);
      }
    };
    visit(node);
  }

  /**
   * An operand bash evaluates as arithmetic: its static text may itself hold `$(...)` (as in
   * `[[ 1 -eq 'a[$(cmd)]' ]]`), which bash then runs: parse it as an arithmetic expansion.
   */
  #arithmeticText(word: ShellWord, place: Place): void {
    const literal = !word.dynamic && /^[\s0-9+\-*/%()<>=!&|^~?:,xXa-fA-F#]*$/.test(word.text);
    this.#result.constructs.push({ kind: 'arithmetic', text: clip(word.text), literal });
    if (!word.dynamic && /[$`]/.test(word.text)) this.#nested(`: $(( ${word.text} ))`, place, 'arithmetic');
  }

  #arithmetic(node: SyntaxNode, place: Place): void {
    let literal = true;
    const visit = (child: SyntaxNode): void => {
      this.#checkNode(child);
      if (
        [
          'variable_name',
          'simple_expansion',
          'expansion',
          'command_substitution',
          'subscript',
          'word',
          'string',
          'raw_string',
          'concatenation',
          'process_substitution',
          'arithmetic_expansion',
        ].includes(child.type)
      ) {
        literal = false;
        if (child.type === 'subscript') {
          const index = child.childForFieldName('index');
          if (index) this.#subscript(index, place);
          return;
        }
        if (child.type !== 'variable_name') this.word(child, place);
        return;
      }
      for (const next of child.namedChildren) if (next) visit(next);
    };
    for (const child of node.namedChildren) if (child) visit(child);
    this.#result.constructs.push({ kind: 'arithmetic', text: clip(node.text), literal });
  }

  #subscript(index: SyntaxNode, place: Place): void {
    const word = this.word(index, place);
    if (/^(?:[0-9]+|@|\*)$/.test(word.text) && !word.dynamic) return;
    this.#arithmeticText(word, place);
  }

  /**
   * Finds the command substitutions in text the shell expands (`$(...)`, `$((...))`, backticks)
   * and parses each; true when there was one. Unbalanced text is a problem.
   */
  #textSubstitutions(text: string, place: Place, how: string): boolean {
    let found = false;
    for (let index = 0; index < text.length; index++) {
      const char = text[index]!;
      if (char === '\\') {
        index++;
        continue;
      }
      if (char === '`') {
        let end = index + 1;
        while (end < text.length && text[end] !== '`') end += text[end] === '\\' ? 2 : 1;
        if (end >= text.length) {
          this.#problem(`an unclosed backtick in a ${how}`);
          return true;
        }
        this.#nested(text.slice(index + 1, end).replace(/\\([\\`$])/g, '$1'), place, `${how} \`...\``);
        found = true;
        index = end;
        continue;
      }
      if (char !== '$' || text[index + 1] !== '(') continue;
      const end = closingParenthesis(text, index + 1);
      if (end < 0) {
        this.#problem(`an unclosed $( in a ${how}`);
        return true;
      }
      const inner = text.slice(index, end + 1);
      this.#nested(inner.startsWith('$((') ? `: ${inner}` : inner.slice(2, -1), place, `${how} $(...)`);
      found = true;
      index = end;
    }
    return found;
  }

  /** Parses code found inside a word (a backtick substitution, an arithmetic operand). */
  #nested(code: string, place: Place, how: string): void {
    const inner = parseWith(this.#parser, code, this.#depth + 1);
    const context = [...place.context, how];
    for (const command of inner.commands) {
      command.context = [...context, ...command.context];
      this.#result.commands.push(command);
    }
    this.#result.constructs.push(...inner.constructs);
    for (const problem of inner.problems) this.#problem(problem);
  }

  /** Converts a word node, collecting the commands and constructs inside it. */
  word(node: SyntaxNode, place: Place): ShellWord {
    this.#checkNode(node);
    const raw = node.text;
    switch (node.type) {
      case 'word':
      case 'number':
      case 'file_descriptor':
      case 'variable_name':
      case 'test_operator':
      case 'regex':
        return {
          text: unescapeUnquoted(raw),
          dynamic: false,
          pattern: node.type === 'word' && hasUnquotedPattern(raw),
        };
      case 'extglob_pattern':
      case 'brace_expression':
        return { text: raw, dynamic: false, pattern: true };
      case 'raw_string':
        return { text: raw.slice(1, -1), dynamic: false, pattern: false };
      case 'ansi_c_string':
        return { text: decodeAnsiC(raw.slice(2, -1)), dynamic: false, pattern: false };
      case 'string':
      case 'translated_string':
        return this.#string(node, place);
      case 'concatenation':
      case 'array': {
        let text = '';
        let dynamic = false;
        let pattern = false;
        let cursor = node.startIndex;
        for (const child of node.namedChildren) {
          if (!child) continue;
          if (child.startIndex > cursor) {
            const gap = this.#source.slice(cursor, child.startIndex);
            text += node.type === 'array' ? gap : unescapeUnquoted(gap);
            pattern ||= hasUnquotedPattern(gap);
          }
          const part = this.word(child, place);
          text += part.text;
          dynamic ||= part.dynamic;
          pattern ||= part.pattern;
          cursor = child.endIndex;
        }
        if (cursor < node.endIndex) {
          const gap = this.#source.slice(cursor, node.endIndex);
          text += unescapeUnquoted(gap);
          pattern ||= hasUnquotedPattern(gap);
        }
        return { text, dynamic, pattern };
      }
      case 'simple_expansion':
      case 'special_variable_name':
        return { text: raw, dynamic: true, pattern: false };
      case 'expansion':
        this.#expansion(node, place);
        return { text: raw, dynamic: true, pattern: false };
      case 'command_substitution':
        this.#substitution(node, place);
        return { text: raw, dynamic: true, pattern: false };
      case 'process_substitution':
        for (const child of node.namedChildren)
          if (child)
            this.statement(child, {
              pipedInput: false,
              upstream: [],
              context: [...place.context, raw.slice(0, 2) + '...)'],
            });
        return { text: raw, dynamic: true, pattern: false };
      case 'arithmetic_expansion':
        this.#arithmetic(node, place);
        return { text: raw, dynamic: true, pattern: false };
      case 'subscript': {
        const index = node.childForFieldName('index');
        if (index) this.#subscript(index, place);
        return { text: raw, dynamic: true, pattern: false };
      }
      case 'ERROR':
        for (const child of node.namedChildren) if (child) this.word(child, place);
        return { text: raw, dynamic: true, pattern: true };
      default:
        if (STATEMENT_TYPES.has(node.type)) {
          this.statement(node, inner(place));
          return { text: raw, dynamic: true, pattern: false };
        }
        // Expressions (binary_expression in [[ ]] or arithmetic...): look inside for substitutions.
        for (const child of node.namedChildren) if (child) this.word(child, place);
        return { text: raw, dynamic: true, pattern: false };
    }
  }

  #string(node: SyntaxNode, place: Place): ShellWord {
    const raw = node.text;
    const open = raw.startsWith('$"') ? 2 : 1;
    let text = '';
    let dynamic = false;
    let cursor = node.startIndex + open;
    const end = node.endIndex - (raw.endsWith('"') ? 1 : 0);
    for (const child of node.namedChildren) {
      if (!child) continue;
      if (child.type === 'string_content') continue;
      if (child.startIndex > cursor)
        text += unescapeDoubleQuoted(this.#source.slice(cursor, child.startIndex));
      const part = this.word(child, place);
      text += part.text;
      dynamic ||= part.dynamic;
      cursor = child.endIndex;
    }
    if (end > cursor) text += unescapeDoubleQuoted(this.#source.slice(cursor, end));
    return { text, dynamic, pattern: false };
  }

  #expansion(node: SyntaxNode, place: Place): void {
    const raw = node.text;
    const tokens = node.children.filter((child): child is SyntaxNode => child !== null);
    if (tokens[1] && !tokens[1].isNamed && tokens[1].type === '!') {
      // `${!prefix*}`, `${!prefix@}` and `${!array[@]}` list names or keys; the rest is indirection.
      if (!/^\$\{![A-Za-z_][A-Za-z0-9_]*(?:[*@]|\[[*@]\])\}$/.test(raw))
        this.#result.constructs.push({ kind: 'indirect-expansion', text: clip(raw) });
    }
    const at = tokens.findIndex((child) => !child.isNamed && child.type === '@');
    if (at >= 0 && tokens[at + 1]?.text === 'P')
      this.#result.constructs.push({ kind: 'prompt-expansion', text: clip(raw) });
    // `${x:offset:length}`: offset and length are arithmetic.
    const substring = /^\$\{#?[A-Za-z_][A-Za-z0-9_]*(?:\[[^\]]*\])?:(?![-=+?])([\s\S]*)\}$/.exec(raw);
    if (substring) {
      const rest = substring[1] ?? '';
      this.#result.constructs.push({
        kind: 'arithmetic',
        text: clip(rest),
        literal: /^[\s0-9:+-]*$/.test(rest),
      });
    }
    for (const child of tokens) {
      if (!child.isNamed) continue;
      if (child.type === 'variable_name' || child.type === 'special_variable_name') continue;
      // ``${x:-`cmd`}``: tree-sitter keeps the backticks as a plain word.
      if (child.type === 'word' && child.text.includes('`'))
        this.#textSubstitutions(child.text, place, '${...}');
      if (child.type === 'subscript') {
        const index = child.childForFieldName('index');
        if (index) this.#subscript(index, place);
        continue;
      }
      this.word(child, place);
    }
  }

  #substitution(node: SyntaxNode, place: Place): void {
    const raw = node.text;
    if (raw.startsWith('`')) {
      // tree-sitter does not follow escaped backticks inside backticks; bash does, after
      // removing one level of backslashes. Parse the inner text exactly as bash sees it.
      const code = raw.slice(1, raw.endsWith('`') ? -1 : undefined).replace(/\\([\\`$])/g, '$1');
      this.#nested(code, place, '`...`');
      return;
    }
    const context: Place = { pipedInput: false, upstream: [], context: [...place.context, '$(...)'] };
    for (const child of node.namedChildren) {
      if (!child) continue;
      if (REDIRECT_TYPES.has(child.type)) this.#unattachedRedirect(child, context);
      else this.statement(child, context);
    }
  }
}

const EMPTY_WORD: ShellWord = { text: '', dynamic: false, pattern: false };

/** Where the `)` matching the `(` at `open` is, skipping quotes and escapes; -1 when there is none. */
function closingParenthesis(text: string, open: number): number {
  let depth = 0;
  for (let index = open; index < text.length; index++) {
    const char = text[index]!;
    if (char === '\\') {
      index++;
      continue;
    }
    if (char === "'" || char === '"') {
      const close = text.indexOf(char, index + 1);
      if (close < 0) return -1;
      index = close;
      continue;
    }
    if (char === '(') depth++;
    else if (char === ')' && --depth === 0) return index;
  }
  return -1;
}

function inner(place: Place): Place {
  return { pipedInput: false, upstream: [], context: place.context };
}

function newCommand(context: string[]): SimpleCommand {
  return { words: [], assignments: [], redirects: [], pipedInput: false, upstream: [], context };
}

function stageName(node: SyntaxNode): string {
  let current: SyntaxNode | null = node;
  while (current && current.type === 'redirected_statement') current = current.childForFieldName('body');
  if (current?.type === 'command') {
    const name = current.childForFieldName('name');
    if (name) return unescapeUnquoted(name.text.replace(/['"]/g, ''));
  }
  return '( ... )';
}

function clip(text: string): string {
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

/** Removes the backslashes of an unquoted word: `\x` is `x`, backslash-newline is nothing. */
function unescapeUnquoted(text: string): string {
  return text.replace(/\\(\n|[\s\S])/g, (_match, char: string) => (char === '\n' ? '' : char));
}

/** Inside double quotes a backslash only escapes `$`, `` ` ``, `"`, `\` and newline. */
function unescapeDoubleQuoted(text: string): string {
  return text.replace(/\\([$`"\\\n])/g, (_match, char: string) => (char === '\n' ? '' : char));
}

function hasUnquotedPattern(raw: string): boolean {
  return (
    /(?:^|[^\\])[*?[]/.test(raw) ||
    /(?:^|[^\\])\{[^\s{}]*(?:,|\.\.)[^\s{}]*\}/.test(raw) ||
    /(?:^|[^\\])[?*+@!]\(/.test(raw)
  );
}

/** Decodes the body of a `$'...'` string. */
export function decodeAnsiC(body: string): string {
  const simple: Record<string, string> = {
    n: '\n',
    t: '\t',
    r: '\r',
    e: '\x1b',
    E: '\x1b',
    a: '\x07',
    b: '\b',
    f: '\f',
    v: '\v',
    '\\': '\\',
    "'": "'",
    '"': '"',
    '?': '?',
  };
  return body.replace(
    /\\(x[0-9A-Fa-f]{1,2}|u[0-9A-Fa-f]{1,4}|U[0-9A-Fa-f]{1,8}|[0-7]{1,3}|c[\s\S]|[\s\S])/g,
    (match, escape: string) => {
      const kind = escape[0]!;
      if (kind === 'x' || kind === 'u' || kind === 'U')
        return String.fromCodePoint(Number.parseInt(escape.slice(1), 16));
      if (/[0-7]/.test(kind)) return String.fromCharCode(Number.parseInt(escape, 8) & 0xff);
      if (kind === 'c') return String.fromCharCode(escape.charCodeAt(1) & 0x1f);
      return simple[kind] ?? match;
    },
  );
}
