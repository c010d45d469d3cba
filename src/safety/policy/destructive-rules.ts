/**
 * The rules of the `ask-destructive` profile: commands known to destroy data, cut off access or
 * run code the policy cannot see. Anything not matched here runs without asking in that profile,
 * so it is weaker than the read-only profile by design (see docs/safety.md).
 */
import {
  CONTAINER_GLOBAL_VALUE_OPTIONS,
  containerSubcommand,
  interpreterName,
  programName,
  SHELLS,
  shellInvocation,
  STDIN_FILES,
  type CommandSegment,
} from './command-segments.js';
import type { ShellWord } from './shell-parser.js';
import { awkProgramProblem, sedScriptProblem } from './script-checks.js';
import { splitSql, sqlStatementProblem } from './sql-statements.js';

/** A rule of the ask-destructive profile. */
export interface BuiltinRule {
  /** Shown as `builtin:<name>`. */
  name: string;
  action: 'ask' | 'deny';
  /** Told to the reviewer and, when the command is not run, to the model. */
  reason: string;
  matches(segment: CommandSegment): boolean;
}

/** System locations whose files a command must not overwrite unasked. */
export const SYSTEM_PATH =
  /^\/(?:etc|boot|bin|sbin|lib|lib32|lib64|libx32|usr|opt|root|var\/lib|var\/spool|srv|proc|sys|dev)(?:\/|$)|^\/(?:\*)?$/;

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
  if (program === 'source' || program === '.') return STDIN_FILES.has(args(segment)[0]?.text ?? '');
  if (interpreterName(program)) return positionals(segment).every((text) => STDIN_FILES.has(text));
  return false;
}

/** The stdin is code the policy saw (a static here-document or here-string, parsed as commands). */
function staticStdin(segment: CommandSegment): boolean {
  return segment.stdinText !== undefined && segment.stdinDynamic !== true && !segment.pipedInput;
}

function outputRedirects(segment: CommandSegment): ShellWord[] {
  return segment.redirects
    .filter(
      (redirect) =>
        /^(?:>|>>|>\||&>|&>>|<>)$/.test(redirect.operator) ||
        (redirect.operator === '>&' && !/^\d+-?$|^-$/.test(redirect.target.text)),
    )
    .map((redirect) => redirect.target);
}

/** Options and plain words of a `git`/`docker`-style command after its subcommand. */
function after(segment: CommandSegment, subcommand: string): string[] {
  const words = args(segment).map((word) => word.text);
  const at = words.indexOf(subcommand);
  return at < 0 ? [] : words.slice(at + 1);
}

const PACKAGE_REMOVAL: Record<string, string[]> = {
  'apt-get': ['remove', 'purge', 'autoremove'],
  apt: ['remove', 'purge', 'autoremove'],
  aptitude: ['remove', 'purge'],
  yum: ['remove', 'erase', 'autoremove'],
  dnf: ['remove', 'erase', 'autoremove'],
  zypper: ['remove', 'rm'],
  apk: ['del'],
  pacman: ['-R', '-Rs', '-Rns', '-Rdd'],
  snap: ['remove'],
  pip: ['uninstall'],
  pip3: ['uninstall'],
  npm: ['uninstall', 'rm', 'remove', 'un', 'r'],
  brew: ['uninstall', 'remove', 'rm'],
};

const CLOUD_CLIS = new Set([
  'aws',
  'gcloud',
  'az',
  'doctl',
  'oci',
  'linode-cli',
  'hcloud',
  'ibmcloud',
  'scw',
  'gsutil',
  's3cmd',
  'rclone',
  'mc',
]);
const CLOUD_DESTRUCTIVE =
  /^(?:delete|destroy|remove|rm|rb|terminate(?:-instances)?|purge|deprovision|detach-volume|delete-.*|remove-.*|terminate-.*|deregister-.*|stop-instances|deletes?|purge-.*|unmount|deletion|del|rmdir|clean|sync)$/;

export const BUILTIN_RULES: readonly BuiltinRule[] = [
  {
    name: 'rm-recursive-or-force',
    action: 'ask',
    reason: 'recursive or forced rm (or rm of files only known at run time) deletes files without asking',
    matches: (segment) =>
      name(segment) === 'rm' &&
      (options(segment).some(
        (option) =>
          hasShortFlag(option, 'rRf') || ['--recursive', '--force', '--no-preserve-root'].includes(option),
      ) ||
        args(segment).some((word) => word.dynamic) ||
        segment.extraArguments),
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
      if (segment.redirects.some((redirect) => redirect.target.text === '/proc/sysrq-trigger')) return true;
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
  {
    name: 'shred-or-truncate',
    action: 'ask',
    reason: 'shred and truncate destroy file contents',
    matches: (segment) => ['shred', 'truncate', 'fallocate', 'srm', 'wipe'].includes(name(segment)),
  },
  {
    name: 'empty-a-file',
    action: 'ask',
    reason: 'a redirection with no command (`> file`, `: > file`) empties the file',
    matches: (segment) =>
      outputRedirects(segment).length > 0 &&
      (segment.words.length === 0 ||
        (['true', ':'].includes(name(segment)) && segment.words.length === 1) ||
        (name(segment) === 'cat' && args(segment).some((word) => word.text === '/dev/null'))) &&
      segment.redirects.some((redirect) => !redirect.operator.includes('>>') && redirect.operator !== '>&'),
  },
  {
    name: 'overwrite-system-file',
    action: 'ask',
    reason: 'writes into system files or kernel settings (/etc, /boot, /usr, /proc, /sys, /dev...)',
    matches: (segment) => {
      if (
        outputRedirects(segment).some(
          (target) =>
            target.dynamic ||
            (SYSTEM_PATH.test(target.text) &&
              !/^\/dev\/(?:null|stdout|stderr|tty|fd\/\d+)$/.test(target.text)),
        )
      )
        return true;
      const program = name(segment);
      const plain = positionals(segment);
      if (program === 'tee') return plain.some((text) => SYSTEM_PATH.test(text) && text !== '/dev/null');
      if (['cp', 'mv', 'install', 'ln', 'rsync', 'scp'].includes(program)) {
        const target = plain.at(-1) ?? '';
        const targetOption = args(segment).find(
          (word) => word.text.startsWith('--target-directory=') || word.text === '-t',
        );
        return (
          SYSTEM_PATH.test(target) ||
          targetOption !== undefined ||
          (program === 'mv' && plain.slice(0, -1).some((text) => SYSTEM_PATH.test(text)))
        );
      }
      if (program === 'dd')
        return args(segment).some(
          (word) =>
            word.text.startsWith('of=') &&
            SYSTEM_PATH.test(word.text.slice(3)) &&
            !HARMLESS_DEVICES.has(word.text.slice(3)),
        );
      if (program === 'sed' || program === 'perl')
        return (
          options(segment).some((option) => /^-[a-zA-Z]*i|^--in-place/.test(option)) &&
          plain.some((text) => SYSTEM_PATH.test(text))
        );
      return false;
    },
  },
  {
    name: 'kill-all-or-init',
    action: 'ask',
    reason: 'signals every process, init (PID 1) or a critical daemon',
    matches: (segment) => {
      const program = name(segment);
      if (program === 'killall5') return true;
      if (program === 'kill') {
        const words = args(segment).map((word) => word.text);
        let index = 0;
        if (words[0] === '-s' || words[0] === '-n' || words[0] === '--signal') index = 2;
        else if (/^-(?:\d+|[A-Z][A-Z0-9+-]*|SIG[A-Z0-9]+)$/.test(words[0] ?? '') || words[0] === '--')
          index = 1;
        return words.slice(index).some((text) => (text === '--' ? false : /^(?:-?1|0|-\d+)$/.test(text)));
      }
      if (program === 'pkill' || program === 'killall') {
        return (
          positionals(segment, ['-u', '-U', '-g', '-G', '-P', '-s', '-t', '-n', '--signal']).some((text) =>
            /^(?:init|systemd|sshd?|dockerd|containerd|kubelet|etcd|postgres|mysqld|.|\.\*|-1)$/.test(text),
          ) || options(segment).some((option) => option === '-u' || option === '--user')
        );
      }
      return false;
    },
  },
  {
    name: 'fork-bomb',
    action: 'ask',
    reason: 'a function that calls itself, in the background or a pipeline, exhausts the machine (fork bomb)',
    matches: (segment) => {
      const program = name(segment);
      return program !== '' && segment.via.includes(`function ${program}`);
    },
  },
  {
    name: 'container-with-host-access',
    action: 'ask',
    reason: 'runs a container with the host file system, devices or namespaces: its commands act on the host',
    matches: (segment) => {
      const start = containerSubcommand(name(segment), segment.words);
      if (!start) return false;
      const verb = segment.words[start.index]?.text;
      if (verb !== 'run' && verb !== 'create' && !(start.compose && verb === 'run')) return false;
      const words = segment.words.slice(start.index + 1).map((word) => word.text);
      for (let index = 0; index < words.length; index++) {
        const text = words[index]!;
        if (
          /^--privileged$|^--(?:pid|net|network|ipc|uts|userns|cgroupns)=host$|^--cap-add(?:=|$)|^--device(?:=|$)|^--security-opt/.test(
            text,
          )
        )
          return true;
        if (
          ['--pid', '--net', '--network', '--ipc', '--uts', '--userns'].includes(text) &&
          words[index + 1] === 'host'
        )
          return true;
        const volume =
          text === '-v' || text === '--volume' || text === '--mount'
            ? words[index + 1]
            : /^(?:-v|--volume=|--mount=)(.+)$/.exec(text)?.[1];
        if (volume !== undefined) {
          const source = /(?:^|,)(?:source|src)=([^,]+)/.exec(volume)?.[1] ?? volume.split(':')[0] ?? '';
          if (
            source === '/' ||
            SYSTEM_PATH.test(source) ||
            /^\/(?:home|var|run)(?:\/|$)/.test(source) ||
            source.includes('docker.sock')
          )
            return true;
        }
      }
      return false;
    },
  },
  {
    name: 'compose-down-volumes',
    action: 'ask',
    reason: 'docker compose down -v / --rmi and compose rm delete volumes, images or containers',
    matches: (segment) => {
      const start = containerSubcommand(name(segment), segment.words);
      if (!start?.compose) return false;
      const verb = segment.words[start.index]?.text;
      const rest = segment.words.slice(start.index + 1).map((word) => word.text);
      if (verb === 'rm') return true;
      return verb === 'down' && rest.some((text) => /^-[a-z]*v|^--volumes|^--rmi/.test(text));
    },
  },
  {
    name: 'firewall-policy',
    action: 'ask',
    reason: 'changes the firewall policy or deletes rules, which can cut off access',
    matches: (segment) => {
      const program = name(segment);
      if (
        /^ip6?tables(?:-legacy|-nft)?$/.test(program) ||
        program === 'ebtables' ||
        program === 'arptables'
      ) {
        return (
          options(segment).some(
            (option) =>
              (/^-[A-Za-z]*[PXDZ]/.test(option) && !option.startsWith('--')) ||
              ['--policy', '--delete-chain', '--delete', '--zero'].includes(option),
          ) || args(segment).some((word) => ['DROP', 'REJECT'].includes(word.text))
        );
      }
      if (program === 'iptables-restore' || program === 'ip6tables-restore') return true;
      if (program === 'nft')
        return (
          ['delete', 'destroy', 'flush'].includes(positionals(segment)[0] ?? '') ||
          positionals(segment).includes('drop')
        );
      if (program === 'ufw')
        return ['deny', 'reject', 'delete', 'default'].includes(positionals(segment)[0] ?? '');
      if (program === 'firewall-cmd')
        return args(segment).some((word) =>
          /^--(?:panic-on|set-default-zone|remove-|complete-reload)/.test(word.text),
        );
      return false;
    },
  },
  {
    name: 'run-code-the-policy-cannot-see',
    action: 'ask',
    reason:
      'runs a script file or inline interpreter code (python -c, perl -e, node -e...); the policy cannot check what it does',
    matches: (segment) => {
      const program = name(segment);
      if (SHELLS.has(program)) {
        const invocation = shellInvocation(segment.words);
        if (invocation.noExec) return false;
        if (invocation.startupFile) return true;
        if (invocation.script && !invocation.readsStdin) return true;
        // A shell reading stdin: fine only when that stdin is code the policy parsed.
        return invocation.readsStdin && invocation.code === undefined && !staticStdin(segment);
      }
      if (program === 'source' || program === '.') {
        const file = args(segment)[0]?.text ?? '';
        if (STDIN_FILES.has(file)) return !staticStdin(segment);
        return !['/etc/os-release', '/usr/lib/os-release', '/etc/lsb-release'].includes(file);
      }
      const interpreter = interpreterName(program);
      if (interpreter) {
        const words = args(segment).map((word) => word.text);
        if (words.length === 0) return true;
        return (
          !words.every((text) => /^(?:--?version|-V|-v|--help|-h)$/.test(text)) &&
          !(
            interpreter === 'python' &&
            words[0] === '-m' &&
            ['json.tool', 'site', 'platform', 'sysconfig'].includes(words[1] ?? '')
          )
        );
      }
      return false;
    },
  },
  {
    name: 'awk-or-sed-runs-commands',
    action: 'ask',
    reason: 'the awk or sed program runs commands (system(), pipes, sed e) the policy cannot see',
    matches: (segment) => {
      const program = name(segment);
      const words = args(segment);
      if (['awk', 'gawk', 'mawk', 'nawk'].includes(program)) {
        if (
          words.some((word) =>
            ['-f', '--file', '-E', '--exec', '-i', '--include', '-l', '--load'].includes(word.text),
          )
        )
          return true;
        const code = words.find(
          (word, index) =>
            !word.text.startsWith('-') &&
            !['-F', '-v', '--assign', '--field-separator'].includes(words[index - 1]?.text ?? ''),
        );
        if (!code) return false;
        if (code.dynamic) return true;
        const problem = awkProgramProblem(code.text);
        return problem !== undefined && !/writes to a file/.test(problem);
      }
      if (program === 'sed') {
        return words.some(
          (word) =>
            !word.text.startsWith('-') &&
            !word.dynamic &&
            /runs a command/.test(sedScriptProblem(word.text) ?? ''),
        );
      }
      return false;
    },
  },
  {
    name: 'program-outside-system-dirs',
    action: 'ask',
    reason:
      'runs a program by a path outside the system directories (a script or a copied binary); the policy cannot see what it does',
    matches: (segment) => {
      const first = segment.words[0];
      if (!first || first.dynamic || !first.text.includes('/')) return false;
      return !/^\/(?:usr\/(?:local\/)?)?s?bin\/[^/]+$/.test(first.text);
    },
  },
  {
    name: 'change-shell-lookup',
    action: 'ask',
    reason:
      'changes what a command name runs for later commands (hash -p, enable, PATH, LD_PRELOAD, BASH_ENV)',
    matches: (segment) => {
      const program = name(segment);
      if (program === 'hash') return options(segment).some((option) => option.startsWith('-p'));
      if (program === 'enable')
        return args(segment).length > 0 && !args(segment).every((word) => /^-[aps]+$/.test(word.text));
      if (program === 'coproc') return true;
      return segment.assignments.some((assignment) =>
        /^(?:PATH|LD_PRELOAD|LD_LIBRARY_PATH|LD_AUDIT|BASH_ENV|ENV|PS4|PROMPT_COMMAND|IFS|SHELLOPTS|BASHOPTS)$/.test(
          assignment.name,
        ),
      );
    },
  },
  {
    name: 'permissions-recursive',
    action: 'ask',
    reason: 'changes ownership or permissions recursively or of system paths',
    matches: (segment) => {
      const program = name(segment);
      if (!['chmod', 'chown', 'chgrp', 'setfacl', 'chattr'].includes(program)) return false;
      return (
        options(segment).some((option) => /^-[a-zA-Z]*R|^--recursive/.test(option)) ||
        positionals(segment)
          .slice(program === 'chattr' ? 0 : 1)
          .some((text) => text === '/' || SYSTEM_PATH.test(text))
      );
    },
  },
  {
    name: 'remove-packages-or-users',
    action: 'ask',
    reason: 'removes packages, users or groups',
    matches: (segment) => {
      const program = name(segment);
      if (['userdel', 'deluser', 'groupdel', 'delgroup'].includes(program)) return true;
      if (program === 'dpkg')
        return options(segment).some((option) => /^-[a-zA-Z]*[rP]$|^--(?:remove|purge)/.test(option));
      if (program === 'rpm') return options(segment).some((option) => /^-[a-zA-Z]*e|^--erase/.test(option));
      const verbs = PACKAGE_REMOVAL[program];
      if (!verbs) return false;
      return args(segment).some((word) => verbs.includes(word.text));
    },
  },
  {
    name: 'git-discard',
    action: 'ask',
    reason: 'discards work or rewrites history (git clean -f, reset --hard, push --force, branch -D...)',
    matches: (segment) => {
      if (name(segment) !== 'git') return false;
      const words = args(segment).map((word) => word.text);
      const verb = words.find(
        (text, index) =>
          !text.startsWith('-') && !['-C', '-c', '--git-dir', '--work-tree'].includes(words[index - 1] ?? ''),
      );
      const rest = after(segment, verb ?? '');
      switch (verb) {
        case 'clean':
          return !rest.some((text) => /^-[a-zA-Z]*n|^--dry-run/.test(text));
        case 'reset':
          return rest.includes('--hard') || rest.includes('--merge') || rest.includes('--keep');
        case 'push':
          return rest.some(
            (text) =>
              /^(?:-f|--force|--force-with-lease|--delete|-d|--mirror|--prune)(?:=|$)/.test(text) ||
              text.startsWith(':') ||
              text.startsWith('+'),
          );
        case 'branch':
          return rest.some((text) => /^-[a-zA-Z]*D|^--delete$/.test(text) && text !== '-d');
        case 'checkout':
          return (
            rest.includes('--') ||
            rest.includes('.') ||
            rest.some((text) => /^-[a-zA-Z]*f|^--force/.test(text))
          );
        case 'restore':
        case 'filter-branch':
        case 'filter-repo':
          return true;
        case 'stash':
          return ['drop', 'clear'].includes(rest[0] ?? '');
        case 'rm':
          return rest.some((text) => /^-[a-zA-Z]*r/.test(text));
        case 'reflog':
          return ['expire', 'delete'].includes(rest[0] ?? '');
        case 'gc':
          return rest.some((text) => text.startsWith('--prune'));
        case 'update-ref':
          return rest.includes('-d');
        default:
          return false;
      }
    },
  },
  {
    name: 'database-destroy',
    action: 'ask',
    reason: 'drops, deletes or flushes data in a database (SQL given to psql -c / mysql -e is checked too)',
    matches: (segment) => {
      const program = name(segment);
      if (program === 'redis-cli')
        return args(segment).some((word) =>
          /^(?:FLUSHALL|FLUSHDB|SHUTDOWN|DEBUG|CONFIG|DEL|UNLINK|SLAVEOF|REPLICAOF|MIGRATE|RESTORE|SWAPDB)$/i.test(
            word.text,
          ),
        );
      if (['dropdb', 'dropuser', 'mongo', 'mongosh'].includes(program))
        return (
          program.startsWith('drop') || args(segment).some((word) => /drop|remove|delete/i.test(word.text))
        );
      if (['psql', 'mysql', 'mariadb', 'sqlite3'].includes(program)) {
        const words = args(segment);
        const code = words.find(
          (word, index) =>
            ['-c', '--command', '-e', '--execute'].includes(words[index - 1]?.text ?? '') ||
            (program === 'sqlite3' && index === 1),
        );
        if (!code) return false;
        if (code.dynamic) return true;
        const sql = splitSql(code.text);
        return (
          sql.problems.length > 0 ||
          sql.statements.some((statement) => sqlStatementProblem(statement, 'ask-destructive') !== undefined)
        );
      }
      if (program === 'mysqladmin')
        return args(segment).some((word) => /^(?:drop|shutdown|kill|flush-.*|purge)$/.test(word.text));
      return false;
    },
  },
  {
    name: 'cloud-delete',
    action: 'ask',
    reason: 'deletes or stops cloud resources',
    matches: (segment) => {
      const program = name(segment);
      if (program === 'terraform' || program === 'tofu' || program === 'pulumi')
        return positionals(segment).some(
          (text) =>
            text === 'destroy' || text === 'apply' || text === 'up' || text === 'import' || text === 'state',
        );
      if (!CLOUD_CLIS.has(program)) return false;
      return (
        positionals(segment).some((text) => CLOUD_DESTRUCTIVE.test(text)) ||
        options(segment).some(
          (option) =>
            option === '--delete' || (option === '--recursive' && positionals(segment).includes('rm')),
        )
      );
    },
  },
  {
    name: 'kubectl-scale-down-or-replace',
    action: 'ask',
    reason: 'scales workloads to zero, force-replaces or cordons nodes',
    matches: (segment) => {
      if (!['kubectl', 'oc'].includes(name(segment))) return false;
      const words = args(segment).map((word) => word.text);
      if (words.includes('scale'))
        return words.some(
          (text, index) => text === '--replicas=0' || (text === '--replicas' && words[index + 1] === '0'),
        );
      if (words.includes('replace')) return words.includes('--force');
      return (
        words.includes('cordon') ||
        words.includes('taint') ||
        (words.includes('rollout') && words.includes('undo')) ||
        (words.includes('apply') && words.some((text) => text.startsWith('--prune')))
      );
    },
  },
  {
    name: 'rsync-delete',
    action: 'ask',
    reason: 'rsync --delete removes files at the destination',
    matches: (segment) =>
      name(segment) === 'rsync' &&
      options(segment).some((option) => option.startsWith('--delete') || option === '--remove-source-files'),
  },
  {
    name: 'partition-or-volume',
    action: 'ask',
    reason: 'changes partitions, volumes, RAID or pools',
    matches: (segment) => {
      const program = name(segment);
      if (
        [
          'fdisk',
          'sfdisk',
          'cfdisk',
          'gdisk',
          'sgdisk',
          'parted',
          'lvremove',
          'vgremove',
          'pvremove',
          'lvreduce',
          'cryptsetup',
          'mdadm',
          'blkdiscard',
          'hdparm',
          'nvme',
          'losetup',
        ].includes(program)
      ) {
        if (program === 'parted' || program === 'fdisk' || program === 'sfdisk')
          return !options(segment).some((option) => option === '-l' || option === '--list');
        if (program === 'mdadm')
          return !options(segment).some(
            (option) =>
              /^--(?:detail|examine|query)/.test(option) ||
              option === '-D' ||
              option === '-E' ||
              option === '-Q',
          );
        if (program === 'hdparm')
          return options(segment).some((option) =>
            /--(?:security|trim|fwdownload|make-bad|write)/.test(option),
          );
        if (program === 'nvme')
          return ['format', 'sanitize', 'delete-ns', 'detach-ns'].includes(positionals(segment)[0] ?? '');
        if (program === 'losetup') return options(segment).some((option) => /^-[a-zA-Z]*[dD]/.test(option));
        return true;
      }
      if (program === 'zpool' || program === 'zfs')
        return ['destroy', 'labelclear', 'rollback', 'remove', 'detach'].includes(
          positionals(segment)[0] ?? '',
        );
      if (program === 'umount')
        return (
          positionals(segment).some((text) => text === '/' || SYSTEM_PATH.test(text)) ||
          options(segment).some((option) => /^-[a-zA-Z]*a/.test(option))
        );
      if (program === 'swapoff') return true;
      return false;
    },
  },
  {
    name: 'crontab-remove',
    action: 'ask',
    reason: 'crontab -r removes every scheduled job of the user',
    matches: (segment) =>
      name(segment) === 'crontab' && options(segment).some((option) => /^-[a-zA-Z]*r/.test(option)),
  },
];
