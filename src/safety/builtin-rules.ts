import {
  CONTAINER_GLOBAL_VALUE_OPTIONS,
  programName,
  SHELLS,
  shellInvocation,
  STDIN_INTERPRETERS,
  type CommandSegment,
} from './command-segments.js';
import type { ShellWord } from './shell-syntax.js';

/** A rule opsmate applies unless the policy file turns built-in rules off. */
export interface BuiltinRule {
  /** Shown as `builtin:<name>`. */
  name: string;
  action: 'ask' | 'deny';
  /** Told to the reviewer and, when the command is not run, to the model. */
  reason: string;
  matches(segment: CommandSegment): boolean;
}

const CRITICAL_UNITS = new Set([
  'ssh',
  'sshd',
  'networking',
  'network',
  'NetworkManager',
  'systemd-networkd',
  'systemd-resolved',
  'docker',
  'containerd',
  'cri-o',
  'crio',
  'kubelet',
  'etcd',
  'dbus',
  'systemd-journald',
  'firewalld',
]);

const BLOCK_DEVICE = /^\/dev\/(?:sd|hd|vd|xvd|nvme|mmcblk|md|dm-|mapper\/|disk\/|loop|sr|rbd|zd)/;
const HARMLESS_DEVICES = new Set(['/dev/null', '/dev/zero', '/dev/stdout', '/dev/stderr', '/dev/tty']);

function name(segment: CommandSegment): string {
  const first = segment.words[0];
  return first ? programName(first.text) : '';
}

function args(segment: CommandSegment): ShellWord[] {
  return segment.words.slice(1);
}

/** Arguments that are not options, up to the end. Options with values are not known, so values count. */
function positionals(segment: CommandSegment, valueOptions: string[] = []): string[] {
  const result: string[] = [];
  const words = args(segment);
  for (let index = 0; index < words.length; index++) {
    const text = words[index]!.text;
    if (valueOptions.includes(text)) {
      index++;
      continue;
    }
    if (text.startsWith('-')) continue;
    result.push(text);
  }
  return result;
}

/** Options before `--`, so `rm -- -rf` (a file named -rf) is not a flag. */
function options(segment: CommandSegment): string[] {
  const result: string[] = [];
  for (const word of args(segment)) {
    if (word.text === '--') break;
    if (word.text.startsWith('-')) result.push(word.text);
  }
  return result;
}

function hasShortFlag(option: string, letters: string): boolean {
  return /^-[A-Za-z]+$/.test(option) && [...letters].some((letter) => option.includes(letter));
}

/** Stdin is a process substitution (`sh < <(curl ...)`): like a pipe, its content is known only at run time. */
function stdinFromSubstitution(segment: CommandSegment): boolean {
  return segment.redirects.some(
    (redirect) => redirect.operator === '<' && redirect.target.dynamic && /^<\(/.test(redirect.target.text),
  );
}

function unitName(text: string): string {
  return text.replace(/\.(service|socket|target)$/, '');
}

/** An interpreter that runs whatever its stdin brings (`sh`, `bash -s`, `python` with no script). */
function readsCodeFromStdin(segment: CommandSegment): boolean {
  const program = name(segment);
  if (SHELLS.has(program)) return shellInvocation(segment.words).readsStdin;
  if (STDIN_INTERPRETERS.has(program) || /^python\d/.test(program)) {
    return positionals(segment).every((text) => text === '-');
  }
  return false;
}

export const BUILTIN_RULES: readonly BuiltinRule[] = [
  {
    name: 'rm-recursive-or-force',
    action: 'ask',
    reason: 'recursive or forced rm deletes files without asking',
    matches: (segment) =>
      name(segment) === 'rm' &&
      (options(segment).some(
        (option) =>
          hasShortFlag(option, 'rRf') || ['--recursive', '--force', '--no-preserve-root'].includes(option),
      ) ||
        args(segment).some((word) => word.dynamic)),
  },
  {
    name: 'find-delete',
    action: 'ask',
    reason: 'find -delete removes every file it matches',
    matches: (segment) => name(segment) === 'find' && args(segment).some((word) => word.text === '-delete'),
  },
  {
    name: 'make-filesystem',
    action: 'ask',
    reason: 'creating a file system or wiping signatures destroys what is on the device',
    matches: (segment) => /^(?:mkfs(?:\..+)?|mke2fs|mkswap|wipefs)$/.test(name(segment)),
  },
  {
    name: 'dd-to-device',
    action: 'ask',
    reason: 'dd writing to a device overwrites it',
    matches: (segment) =>
      name(segment) === 'dd' &&
      args(segment).some((word) => {
        if (!word.text.startsWith('of=')) return false;
        const target = word.text.slice(3);
        return word.dynamic || (target.startsWith('/dev/') && !HARMLESS_DEVICES.has(target));
      }),
  },
  {
    name: 'write-to-block-device',
    action: 'ask',
    reason: 'redirecting output to a block device overwrites it',
    matches: (segment) =>
      segment.redirects.some(
        (redirect) => /[>]/.test(redirect.operator) && BLOCK_DEVICE.test(redirect.target.text),
      ) ||
      (['shred', 'blkdiscard'].includes(name(segment)) &&
        args(segment).some((word) => BLOCK_DEVICE.test(word.text))),
  },
  {
    name: 'power-off-or-reboot',
    action: 'ask',
    reason: 'shuts down or reboots the machine',
    matches: (segment) => {
      const program = name(segment);
      if (['shutdown', 'reboot', 'halt', 'poweroff', 'kexec'].includes(program)) return true;
      const first = positionals(segment)[0] ?? '';
      if (program === 'systemctl') {
        return ['reboot', 'poweroff', 'halt', 'kexec', 'rescue', 'emergency', 'soft-reboot'].includes(first);
      }
      return (program === 'init' || program === 'telinit') && ['0', '1', '6', 's', 'S'].includes(first);
    },
  },
  {
    name: 'firewall-flush',
    action: 'ask',
    reason: 'flushing the firewall rules can cut off access or expose the machine',
    matches: (segment) => {
      const program = name(segment);
      if (/^ip6?tables(?:-legacy|-nft)?$/.test(program)) {
        return options(segment).some((option) => option === '--flush' || /^-[A-Za-z]*F/.test(option));
      }
      if (program === 'nft') return positionals(segment)[0] === 'flush';
      if (program === 'ufw') return ['disable', 'reset'].includes(positionals(segment)[0] ?? '');
      return false;
    },
  },
  {
    name: 'kubectl-delete',
    action: 'ask',
    reason: 'kubectl delete removes cluster resources',
    matches: (segment) =>
      ['kubectl', 'oc'].includes(name(segment)) &&
      args(segment).some((word) => word.text === 'delete' || word.text === 'drain'),
  },
  {
    name: 'helm-uninstall',
    action: 'ask',
    reason: 'helm uninstall removes a release and its resources',
    matches: (segment) =>
      name(segment) === 'helm' &&
      ['uninstall', 'delete', 'del', 'un'].includes(positionals(segment)[0] ?? ''),
  },
  {
    name: 'docker-remove',
    action: 'ask',
    reason: 'removes containers, images, volumes or networks',
    matches: (segment) => {
      if (!['docker', 'podman', 'nerdctl'].includes(name(segment))) return false;
      const [first = '', second = ''] = positionals(segment, CONTAINER_GLOBAL_VALUE_OPTIONS);
      if (first === 'rm' || first === 'rmi') return true;
      const groups = ['system', 'container', 'image', 'volume', 'network', 'builder', 'buildx'];
      return groups.includes(first) && ['prune', 'rm', 'remove'].includes(second);
    },
  },
  {
    name: 'stop-critical-service',
    action: 'ask',
    reason: 'stopping this service can cut off access to the machine or break what runs on it',
    matches: (segment) => {
      const program = name(segment);
      const words = positionals(segment);
      if (program === 'systemctl') {
        if (!['stop', 'kill', 'disable', 'mask', 'isolate'].includes(words[0] ?? '')) return false;
        return words[0] === 'isolate' || words.slice(1).some((unit) => CRITICAL_UNITS.has(unitName(unit)));
      }
      if (program === 'service') {
        return CRITICAL_UNITS.has(unitName(words[0] ?? '')) && ['stop', 'kill'].includes(words[1] ?? '');
      }
      return false;
    },
  },
  {
    name: 'pipe-to-shell',
    action: 'ask',
    reason:
      'a shell or interpreter runs code read from a pipe or process substitution (curl | sh, sh < <(curl ...), base64 -d | sh); the policy cannot see that code',
    matches: (segment) =>
      (segment.pipedInput || stdinFromSubstitution(segment)) && readsCodeFromStdin(segment),
  },
  {
    name: 'shell-from-substitution',
    action: 'ask',
    reason: 'runs code produced at run time (sh <(curl ...), source <(...)); the policy cannot see that code',
    matches: (segment) => {
      const program = name(segment);
      const first = args(segment)[0];
      if (program === 'source' || program === '.') return first?.dynamic === true;
      if (SHELLS.has(program)) {
        const invocation = shellInvocation(segment.words);
        return invocation.script?.dynamic === true;
      }
      return false;
    },
  },
  {
    name: 'dynamic-shell-code',
    action: 'ask',
    reason: 'the code given to eval or a shell is built at run time; the policy cannot see it',
    matches: (segment) => {
      const program = name(segment);
      if (program === 'eval') return args(segment).some((word) => word.dynamic);
      if (SHELLS.has(program)) return shellInvocation(segment.words).code?.dynamic === true;
      return false;
    },
  },
  {
    name: 'dynamic-command-name',
    action: 'ask',
    reason:
      'the command name is only known at run time ($VAR, $(...), a glob); the policy cannot see what runs',
    matches: (segment) => {
      const first = segment.words[0];
      return first !== undefined && (first.dynamic || first.pattern);
    },
  },
];
