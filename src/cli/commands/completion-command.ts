import { Command, type Option } from 'commander';
import type { CliContext } from '../cli-context.js';
import { ConfigError } from '../../errors/opsmate-error.js';

/** One command as the completion scripts see it: its words, options and fixed option values. */
interface CompletionEntry {
  /** `run`, `audit show`. */
  path: string;
  summary: string;
  subcommands: string[];
  options: Array<{ flags: string[]; description: string; choices?: readonly string[] }>;
}

const SHELLS = ['bash', 'zsh', 'fish'] as const;

export function completionCommand(context: CliContext): Command {
  return new Command('completion')
    .summary('print a shell completion script (bash, zsh or fish)')
    .description(
      'Print a completion script for commands, subcommands, options and the values of options that take ' +
        'one of a fixed list (--policy-profile, --shell-command-runtime...). Install it with:\n' +
        '  bash: opsmate completion bash > ~/.local/share/bash-completion/completions/opsmate\n' +
        '  zsh:  opsmate completion zsh > "${fpath[1]}/_opsmate"   (or eval "$(opsmate completion zsh)" in ~/.zshrc)\n' +
        '  fish: opsmate completion fish > ~/.config/fish/completions/opsmate.fish\n' +
        'Runtimes from plugins installed later are completed once the script is printed again.',
    )
    .argument('<shell>', SHELLS.join(', '))
    .action(async (shell: string) => {
      if (!(SHELLS as readonly string[]).includes(shell)) {
        throw new ConfigError(`completion: unknown shell "${shell}"`, {
          hint: `use one of ${SHELLS.join(', ')}`,
        });
      }
      // The whole program, every command and runtime option, as help would show with --help-all.
      const { buildProgram } = await import('../main.js');
      const entries = collect(await buildProgram({ ...context, helpRuntime: undefined }), {
        '--shell-command-runtime': context.registry.names(),
      });
      context.stdout.write(shell === 'fish' ? fishScript(entries) : bashScript(entries, shell === 'zsh'));
    });
}

/**
 * The fixed values of an option: commander's choices, else those the settings put in the
 * placeholder (`--policy-profile <read-only|ask-destructive|allow-all>`) or, for a long list, in
 * the description (`(one of: a, b, c)`).
 */
function choicesOf(
  option: Option,
  known: Readonly<Record<string, readonly string[]>>,
): readonly string[] | undefined {
  if (option.long && known[option.long]) return known[option.long];
  if (option.argChoices) return option.argChoices;
  const placeholder = /<([^<>]+\|[^<>]+)>/.exec(option.flags)?.[1];
  if (placeholder) return placeholder.split('|');
  const listed = /\(one of: ([^)]+)\)/.exec(option.description)?.[1];
  return listed?.split(/,\s*/);
}

function collect(program: Command, known: Readonly<Record<string, readonly string[]>>): CompletionEntry[] {
  const entries: CompletionEntry[] = [];
  const visit = (command: Command, path: string): void => {
    entries.push({
      path,
      summary: command.summary() || command.description().split('\n')[0] || '',
      subcommands: command.commands.map((sub) => sub.name()),
      options: command.options
        .filter((option: Option) => !option.hidden)
        .map((option: Option) => ({
          flags: [option.short, option.long].filter((flag): flag is string => flag !== undefined),
          description: option.description,
          ...((choices) => (choices ? { choices } : {}))(choicesOf(option, known)),
        })),
    });
    for (const sub of command.commands) visit(sub, path === '' ? sub.name() : `${path} ${sub.name()}`);
  };
  visit(program, '');
  return entries;
}

/** Single-quoted for sh. */
function quote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

function bashScript(entries: CompletionEntry[], zsh: boolean): string {
  const cases = entries.map((entry) => {
    const words = [...entry.subcommands, ...entry.options.flatMap((option) => option.flags)];
    const values = entry.options
      .filter((option) => option.choices)
      .map(
        (option) =>
          `      ${option.flags.join('|')}) COMPREPLY=($(compgen -W ${quote(option.choices!.join(' '))} -- "$cur")); return ;;`,
      );
    return [
      `    ${quote(entry.path)})`,
      values.length > 0 ? `      case $prev in\n${values.join('\n')}\n      esac` : '',
      `      words=${quote(words.join(' '))} ;;`,
    ]
      .filter(Boolean)
      .join('\n');
  });
  const paths = entries.map((entry) => entry.path).filter((path) => path !== '');
  return `# opsmate completion for ${zsh ? 'zsh (through bashcompinit)' : 'bash'}; printed by \`opsmate completion ${zsh ? 'zsh' : 'bash'}\`.
${zsh ? 'autoload -U +X bashcompinit && bashcompinit\n' : ''}_opsmate() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD-1]} path= words i
  # The command path before the cursor ("audit show", "run", or "" for opsmate itself).
  for ((i = 1; i < COMP_CWORD; i++)); do
    case \${COMP_WORDS[i]} in -*) continue ;; esac
    local candidate=\${path:+$path }\${COMP_WORDS[i]}
    case $candidate in
      ${paths.map(quote).join('|')}) path=$candidate ;;
    esac
  done
  case $path in
${cases.join('\n')}
    *) words= ;;
  esac
  if [[ $cur == -* || -n $words ]]; then COMPREPLY=($(compgen -W "$words" -- "$cur")); fi
  [[ \${#COMPREPLY[@]} -gt 0 || $cur == -* ]] || COMPREPLY=($(compgen -f -- "$cur"))
}
complete -F _opsmate opsmate
`;
}

function fishScript(entries: CompletionEntry[]): string {
  const lines = [
    '# opsmate completion for fish; printed by `opsmate completion fish`.',
    'complete -c opsmate -f',
  ];
  for (const entry of entries) {
    const words = entry.path === '' ? [] : entry.path.split(' ');
    const condition =
      words.length === 0 ? '__fish_use_subcommand' : `__fish_seen_subcommand_from ${words.at(-1)}`;
    for (const sub of entry.subcommands) {
      const summary = entries.find((other) => other.path === [...words, sub].join(' '))?.summary ?? '';
      lines.push(`complete -c opsmate -n ${quote(condition)} -a ${quote(sub)} -d ${quote(summary)}`);
    }
    for (const option of entry.options) {
      const flags = option.flags
        .map((flag) => (flag.startsWith('--') ? `-l ${quote(flag.slice(2))}` : `-s ${quote(flag.slice(1))}`))
        .join(' ');
      const values = option.choices ? ` -x -a ${quote(option.choices.join(' '))}` : '';
      lines.push(
        `complete -c opsmate -n ${quote(condition)} ${flags}${values} -d ${quote(option.description)}`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}
