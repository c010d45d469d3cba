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

/** Options whose value names a file the command writes (`curl -o`, `wget -O`, `sort -o`, `openssl -out`). */
const OUTPUT_OPTIONS = new Set([
  '-o',
  '-O',
  '--output',
  '--output-document',
  '-out',
  '--out',
  '--outfile',
  '--output-file',
  '--log-file',
  '-P',
  '--directory-prefix',
]);

/** The value of each output option, as `-o F`, `-oF`, `--output=F`. */
function outputTargets(segment: CommandSegment): string[] {
  const words = args(segment).map((word) => word.text);
  const targets: string[] = [];
  for (let index = 0; index < words.length; index++) {
    const text = words[index]!;
    if (text === '--') break;
    if (OUTPUT_OPTIONS.has(text)) targets.push(words[index + 1] ?? '');
    else if (/^--[a-z-]+=/.test(text) && OUTPUT_OPTIONS.has(text.split('=')[0]!))
      targets.push(text.slice(text.indexOf('=') + 1));
    else if (/^-[a-zA-Z]*[oO]$/.test(text)) targets.push(words[index + 1] ?? '');
    else if (/^-[a-zA-Z]*[oO][/~]/.test(text)) targets.push(text.slice(text.search(/[oO][/~]/) + 1));
  }
  return targets;
}

/**
 * `--rec` names `--recursive`: GNU getopt takes any unambiguous prefix of a long option (with
 * at least one letter after the dashes).
 */
function abbreviates(option: string, full: string): boolean {
  const name = option.split('=')[0]!;
  return name.length > 2 && name.startsWith('--') && full.startsWith(name);
}

/** Files that grant access or run commands at login, wherever they are. */
const ACCESS_FILE =
  /(?:^|\/)(?:authorized_keys2?|\.bashrc|\.bash_profile|\.bash_login|\.profile|\.zshrc|\.zprofile|\.bash_logout|\.netrc|\.pgpass|\.gitconfig|\.ssh\/config|\.ssh\/rc|sudoers|\.config\/autostart\/[^/]*|\.config\/systemd\/user\/[^/]*|crontab)$|^(?:~|\$HOME|\$\{HOME\})\/\.ssh\//;

/** `/`, or a path under a system location. */
function isSystemTarget(path: string): boolean {
  return path === '/' || SYSTEM_PATH.test(path);
}

/** Variables whose value is a program or command line that a later program runs. */
const PROGRAM_VARIABLES =
  /^(?:[A-Z_]*PAGER|GIT_(?:SSH|SSH_COMMAND|EXTERNAL_DIFF|EDITOR|ASKPASS|PROXY_COMMAND|EXEC_PATH|TEMPLATE_DIR|CONFIG_GLOBAL|CONFIG_SYSTEM|CONFIG_COUNT|CONFIG_KEY_\d+|CONFIG_VALUE_\d+)|LESSOPEN|LESSCLOSE|LESSKEY|EDITOR|VISUAL|BROWSER|KUBE_EDITOR|KUBECTL_EXTERNAL_DIFF|SSH_ASKPASS|SUDO_ASKPASS|PROMPT_COMMAND|RSYNC_RSH|RSYNC_CONNECT_PROG|TAR_OPTIONS|SYSTEMD_EDITOR|SVN_EDITOR|FCEDIT|PERL5OPT|PYTHONSTARTUP|NODE_OPTIONS)$/;

function programVariable(variable: string, value: ShellWord | undefined): boolean {
  if (!PROGRAM_VARIABLES.test(variable)) return false;
  if (!value) return false;
  return value.dynamic || !/^(?:cat|less|more|less -R|less -FRX|most|)$/.test(value.text.trim());
}

/** The subcommand of a CLI: the first word that is not an option or an option's value. */
function verbOf(segment: CommandSegment, valueOptions: string[]): { verb: string; rest: string[] } {
  const words = args(segment).map((word) => word.text);
  for (let index = 0; index < words.length; index++) {
    const text = words[index]!;
    if (valueOptions.includes(text)) {
      index++;
      continue;
    }
    if (text.startsWith('-')) continue;
    return { verb: text, rest: words.slice(index + 1) };
  }
  return { verb: '', rest: [] };
}

const KUBECTL_VALUE_OPTIONS = [
  '-n',
  '--namespace',
  '--context',
  '--kubeconfig',
  '--cluster',
  '--user',
  '-s',
  '--server',
  '--token',
  '--as',
  '--as-group',
  '--request-timeout',
  '--cache-dir',
  '--certificate-authority',
  '--client-certificate',
  '--client-key',
  '-v',
];
/** kubectl subcommands that change the cluster (delete, drain, scale to 0 have rules of their own). */
const KUBECTL_CHANGES = new Set([
  'apply',
  'patch',
  'scale',
  'autoscale',
  'cordon',
  'uncordon',
  'taint',
  'label',
  'annotate',
  'set',
  'edit',
  'create',
  'replace',
  'expose',
  'run',
  'debug',
  'cp',
  'certificate',
]);
/** git settings whose value is a program git runs. */
const GIT_COMMAND_SETTINGS =
  /^(?:alias\..*|core\.(?:pager|editor|sshcommand|fsmonitor|hookspath|askpass|gitproxy)|diff\..*\.(?:textconv|command)|diff\.external|merge\..*\.driver|filter\..*|credential\.helper|sequence\.editor|gpg\.program|pager\..*|uploadpack\.packobjectshook|protocol\..*\.allow|remote\..*\.(?:uploadpack|receivepack)|init\.templatedir)$/i;
/** systemctl verbs that stop, restart or hide units (poweroff and the like have a rule of their own). */
const SYSTEMCTL_CHANGES = new Set([
  'stop',
  'restart',
  'try-restart',
  'reload-or-restart',
  'try-reload-or-restart',
  'condrestart',
  'force-reload',
  'kill',
  'mask',
  'disable',
  'isolate',
  'set-property',
  'edit',
  'revert',
  'daemon-reexec',
  'switch-root',
  'freeze',
]);
/** Editors and pagers whose start-up commands (`vim -c`, `less +!cmd`) can run shell commands. */
const EDITORS = new Set(['vi', 'vim', 'nvim', 'view', 'vimdiff', 'ex', 'emacs', 'nano', 'ed', 'red']);

export const BUILTIN_RULES: readonly BuiltinRule[] = [
  {
    name: 'rm-recursive-or-force',
    action: 'ask',
    reason: 'recursive or forced rm (or rm of files only known at run time) deletes files without asking',
    matches: (segment) =>
      name(segment) === 'rm' &&
      (options(segment).some(
        (option) =>
          hasShortFlag(option, 'rRf') ||
          ['--recursive', '--force', '--no-preserve-root'].some((full) => abbreviates(option, full)),
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
        /^(?:PATH|LD_PRELOAD|LD_LIBRARY_PATH|LD_AUDIT|BASH_ENV|ENV|PS4|PROMPT_COMMAND|IFS|SHELLOPTS|BASHOPTS|HOME|XDG_CONFIG_HOME|PYTHONPATH|PYTHONHOME|PERL5LIB|RUBYLIB|NODE_PATH|GCONV_PATH|GIT_CONFIG_PARAMETERS|GIT_CONFIG_GLOBAL)$/.test(
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
      // Every operand is looked at: the mode may look like an option (`chmod -x /bin/chmod`) and an
      // owner or a mode is never a path.
      return (
        options(segment).some((option) => /^-[a-zA-Z]*R|^--rec/.test(option)) ||
        args(segment).some((word) => word.text === '/' || SYSTEM_PATH.test(word.text))
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
        return (
          args(segment).some((word) =>
            /^(?:FLUSHALL|FLUSHDB|SHUTDOWN|DEBUG|DEL|UNLINK|SLAVEOF|REPLICAOF|MIGRATE|RESTORE|SWAPDB)$/i.test(
              word.text,
            ),
          ) ||
          args(segment).some(
            (word, index, all) => /^CONFIG$/i.test(word.text) && !/^GET$/i.test(all[index + 1]?.text ?? ''),
          )
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
      if (program === 'terraform' || program === 'tofu' || program === 'pulumi') {
        const plain = positionals(segment);
        return (
          plain.some(
            (text) => text === 'destroy' || text === 'apply' || text === 'up' || text === 'import',
          ) ||
          (plain[0] === 'state' && /^(?:rm|mv|push|replace-provider)$/.test(plain[1] ?? ''))
        );
      }
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
      options(segment).some(
        (option) =>
          option.startsWith('--del') ||
          abbreviates(option, '--remove-source-files') ||
          abbreviates(option, '--delete'),
      ),
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
  {
    name: 'schedule-or-detach-a-command',
    action: 'ask',
    reason:
      'hands a command to a scheduler or a detached session (at, batch, crontab, tmux, screen); it runs later, where the policy cannot see it',
    matches: (segment) => {
      const program = name(segment);
      if (program === 'at' || program === 'batch')
        return !options(segment).some((option) => ['-l', '-c', '-d', '-r'].includes(option));
      if (program === 'crontab')
        return !options(segment).some((option) => /^-[a-zA-Z]*[lr]/.test(option) || option === '-V');
      if (program === 'tmux')
        return /^(?:new|new-session|new-window|neww|split-window|splitw|send-keys|send|run-shell|run|respawn-pane|respawn-window|pipe-pane|if-shell|if|source-file|source)$/.test(
          verbOf(segment, ['-L', '-S', '-f', '-T']).verb,
        );
      if (program === 'screen') return options(segment).some((option) => /^-[a-zA-Z]*[dDmX]/.test(option));
      return false;
    },
  },
  {
    name: 'command-in-an-option',
    action: 'ask',
    reason:
      'an option makes the program run a command the policy cannot see (git -c core.pager=..., git config alias.x "!...", ssh -o ProxyCommand=..., rsync -e, tar --checkpoint-action=exec=..., less +!..., vim -c ..., man -P ...)',
    matches: (segment) => {
      const program = name(segment);
      const words = args(segment).map((word) => word.text);
      if (program === 'git') {
        for (let index = 0; index < words.length; index++) {
          const text = words[index]!;
          const setting = text === '-c' ? words[index + 1] : /^-c(.+)$/.exec(text)?.[1];
          if (setting !== undefined && GIT_COMMAND_SETTINGS.test(setting.split('=')[0] ?? '')) return true;
          if (text === '--config-env' || text.startsWith('--config-env=')) return true;
        }
        const { verb, rest } = verbOf(segment, ['-C', '-c', '--git-dir', '--work-tree', '--namespace']);
        if (verb === 'config') {
          const plain = rest.filter((text) => !text.startsWith('-'));
          const reads = rest.some((text) =>
            /^(?:--get|--get-all|--get-regexp|--list|-l|--show-origin|--name-only|get|list)$/.test(text),
          );
          return (
            !reads &&
            (plain.length >= 2 ||
              rest.some((text) => /^--(?:add|replace-all|edit|unset)/.test(text)) ||
              plain[0] === 'set' ||
              plain[0] === 'edit')
          );
        }
        return false;
      }
      if (program === 'ssh' || program === 'scp' || program === 'sftp' || program === 'sshfs') {
        return words.some(
          (text, index) =>
            /^-o(?:ProxyCommand|LocalCommand|KnownHostsCommand|PermitLocalCommand|ProxyUseFdpass|Match)/i.test(
              text,
            ) ||
            (text === '-o' &&
              /^(?:ProxyCommand|LocalCommand|KnownHostsCommand|PermitLocalCommand|Match)/i.test(
                words[index + 1] ?? '',
              )) ||
            ((program === 'scp' || program === 'sftp') && text === '-S') ||
            text === '-F',
        );
      }
      if (program === 'rsync')
        return words.some((text) => /^(?:-e|--rsh(?:=|$)|--rsync-path(?:=|$)|-[a-zA-Z]*e$)/.test(text));
      if (program === 'tar' || program === 'gtar' || program === 'bsdtar')
        return words.some((text) =>
          /^--(?:checkpoint-action|to-command|use-compress-program|info-script|new-volume-script|rsh-command)(?:=|$)|^-[a-zA-Z]*[IF]$/.test(
            text,
          ),
        );
      if (program === 'less' || program === 'more' || program === 'most')
        return words.some((text) => /^\+.*[!|#]/.test(text) || /^(?:-k|--lesskey)/.test(text));
      if (program === 'man')
        return words.some((text) => /^(?:-P|--pager|-H|--html)(?:=|$)|^-[A-Za-z]*[PH]/.test(text));
      if (EDITORS.has(program)) return true;
      if (program === 'tcpdump') return words.some((text) => /^-[a-zA-Z]*z/.test(text));
      if (program === 'sort') return words.some((text) => abbreviates(text, '--compress-program'));
      if (program === 'curl')
        return words.some((text) => /^-[a-zA-Z]*K/.test(text) || abbreviates(text, '--config'));
      if (program === 'find') return words.some((text) => /^-(?:ok|okdir)$/.test(text));
      return false;
    },
  },
  {
    name: 'interactive-shell',
    action: 'ask',
    reason: 'opens an interactive (often root) shell; what is typed there is not seen by the policy',
    matches: (segment) => {
      const program = name(segment);
      const words = args(segment).map((word) => word.text);
      if (program === 'sudo' || program === 'doas') {
        // Only sudo's own options count; `sudo bash -s` has a command, judged on its own.
        let shell = words.length === 0;
        for (let index = 0; index < words.length; index++) {
          const text = words[index]!;
          if (!text.startsWith('-')) return false;
          if (
            /^-[a-zA-Z]*[ugCDhprtU]$|^--(?:user|group|chdir|host|prompt|role|type|other-user|close-from)$/.test(
              text,
            )
          )
            index++;
          if (/^(?:-[a-zA-Z]*[is][a-zA-Z]*|--login|--shell)$/.test(text)) shell = true;
        }
        return shell;
      }
      if (program === 'su' || program === 'runuser')
        return !words.some((text) => /^(?:-c|--command|--session-command)(?:=|$)/.test(text));
      if (['docker', 'podman', 'nerdctl', 'kubectl', 'oc'].includes(program)) {
        if (!words.includes('exec') && !words.includes('attach')) return false;
        if (words.includes('attach')) return true;
        const last = words.at(-1) ?? '';
        return SHELLS.has(programName(last)) && words.some((text) => /^-[a-zA-Z]*[it]/.test(text));
      }
      return false;
    },
  },
  {
    name: 'grant-access-or-run-at-login',
    action: 'ask',
    reason:
      'writes a file that grants access or runs at login (authorized_keys, sudoers, .bashrc, .profile, cron, systemd units)',
    matches: (segment) => {
      const targets = [
        ...outputRedirects(segment).map((target) => target.text),
        ...(['tee', 'cp', 'mv', 'install', 'ln', 'dd', 'rsync', 'scp'].includes(name(segment))
          ? positionals(segment).slice(name(segment) === 'tee' ? 0 : -1)
          : []),
        ...outputTargets(segment),
      ];
      return targets.some((target) => ACCESS_FILE.test(target));
    },
  },
  {
    name: 'write-to-system-path',
    action: 'ask',
    reason:
      'writes a file into a system location (curl -o /etc/..., wget -O /usr/..., sort -o, openssl -out)',
    matches: (segment) =>
      outputTargets(segment).some((target) => SYSTEM_PATH.test(target) && !HARMLESS_DEVICES.has(target)),
  },
  {
    name: 'kernel-mounts-and-swap',
    action: 'ask',
    reason: 'changes kernel settings, mounts, swap or modules (sysctl -w, mount, umount, swapon, modprobe)',
    matches: (segment) => {
      const program = name(segment);
      const words = args(segment).map((word) => word.text);
      if (program === 'sysctl')
        return words.some(
          (text) =>
            /^(?:-w|--write|-p|--load|--system)(?:=|$)|^-[a-zA-Z]*[wp]$/.test(text) ||
            (!text.startsWith('-') && text.includes('=')),
        );
      if (program === 'mount')
        return (
          positionals(segment, ['-t', '-O', '--types', '--test-opts']).length > 0 ||
          words.some((text) => /^(?:-a|--all|-o|--options|--bind|--move|--rbind|-B|-M)$|^-o/.test(text))
        );
      if (program === 'umount' || program === 'swapoff') return true;
      if (program === 'swapon')
        return !(
          words.length === 0 ||
          words.every((text) => /^(?:-s|--summary|--show(?:=.*)?|--noheadings|--bytes|--raw)$/.test(text))
        );
      if (['insmod', 'rmmod'].includes(program)) return true;
      if (program === 'modprobe')
        return !words.some((text) => /^(?:-n|--dry-run|--show-depends|-D|-c|--showconfig)$/.test(text));
      return false;
    },
  },
  {
    name: 'change-users-or-passwords',
    action: 'ask',
    reason: 'creates or changes users, groups or passwords',
    matches: (segment) => {
      const program = name(segment);
      if (
        [
          'useradd',
          'adduser',
          'usermod',
          'groupadd',
          'addgroup',
          'groupmod',
          'gpasswd',
          'chpasswd',
          'chsh',
          'chfn',
          'vipw',
          'vigr',
          'visudo',
          'newusers',
          'pwck',
          'grpck',
        ].includes(program)
      )
        return !(
          program === 'visudo' && options(segment).some((option) => option === '-c' || option === '--check')
        );
      if (program === 'passwd')
        return !options(segment).some((option) => option === '-S' || option === '--status');
      if (program === 'chage')
        return !options(segment).some((option) => option === '-l' || option === '--list');
      return false;
    },
  },
  {
    name: 'change-cluster',
    action: 'ask',
    reason:
      'changes cluster resources (kubectl apply, patch, scale, rollout restart, cordon, label, edit...; helm install, upgrade, rollback)',
    matches: (segment) => {
      const program = name(segment);
      if (program === 'kubectl' || program === 'oc') {
        const { verb, rest } = verbOf(segment, KUBECTL_VALUE_OPTIONS);
        if (KUBECTL_CHANGES.has(verb))
          return !(
            verb === 'cp' &&
            rest
              .filter((text) => !text.startsWith('-'))
              .at(-1)
              ?.includes(':') === false
          );
        if (verb === 'rollout')
          return /^(?:restart|undo|pause|resume)$/.test(rest.find((text) => !text.startsWith('-')) ?? '');
        return false;
      }
      if (program === 'helm') {
        const { verb } = verbOf(segment, [
          '-n',
          '--namespace',
          '--kube-context',
          '--kubeconfig',
          '--registry-config',
          '--repository-config',
        ]);
        return /^(?:install|upgrade|rollback|uninstall|delete|del|un|push)$/.test(verb);
      }
      return false;
    },
  },
  {
    name: 'stop-or-restart-containers',
    action: 'ask',
    reason: 'stops, restarts, recreates or changes running containers or services',
    matches: (segment) => {
      const start = containerSubcommand(name(segment), segment.words);
      if (!start) return false;
      const verb = segment.words[start.index]?.text ?? '';
      const next = segment.words[start.index + 1]?.text ?? '';
      if (start.compose) return /^(?:stop|restart|down|kill|pause|up|rm|create|start|scale)$/.test(verb);
      if (/^(?:stop|kill|restart|pause|update|rename|commit|start)$/.test(verb)) return true;
      if (['service', 'stack', 'node', 'swarm', 'secret', 'config', 'plugin', 'context'].includes(verb))
        return /^(?:rm|remove|scale|update|rollback|leave|init|join|demote|promote|disable|create|deploy|use)$/.test(
          next,
        );
      if (verb === 'network') return /^(?:disconnect|connect|rm|create)$/.test(next);
      return false;
    },
  },
  {
    name: 'stop-or-restart-services',
    action: 'ask',
    reason: 'stops, restarts, disables or masks a service',
    matches: (segment) => {
      const program = name(segment);
      const words = positionals(segment, [
        '-H',
        '--host',
        '-M',
        '--machine',
        '-p',
        '--property',
        '-t',
        '--type',
        '--state',
        '-s',
        '--signal',
      ]);
      if (program === 'systemctl') return SYSTEMCTL_CHANGES.has(words[0] ?? '');
      if (program === 'service')
        return /^(?:stop|restart|force-reload|reload|try-restart|condrestart|kill)$/.test(words[1] ?? '');
      if (program === 'rc-service' || program === 'sv')
        return (
          /^(?:stop|restart|down|kill|force-stop|force-restart)$/.test(words.at(-1) ?? '') ||
          /^(?:stop|restart|down|kill)$/.test(words[0] ?? '')
        );
      if (program === 'update-rc.d' || program === 'chkconfig') return words.length > 1;
      return false;
    },
  },
  {
    name: 'infrastructure-state',
    action: 'ask',
    reason:
      'changes infrastructure or its state (terraform taint, untaint, force-unlock, workspace delete; cloud stops and uploads)',
    matches: (segment) => {
      const program = name(segment);
      const plain = positionals(segment);
      if (program === 'terraform' || program === 'tofu')
        return (
          plain.some((text) => /^(?:taint|untaint|force-unlock|refresh)$/.test(text)) ||
          (plain[0] === 'workspace' && plain[1] === 'delete')
        );
      if (!CLOUD_CLIS.has(program)) return false;
      if (
        plain.some((text) =>
          /^(?:stop|stop-.*|reboot|reboot-.*|reset|reset-.*|restart|deallocate|suspend|resize|disable|disable-.*|revoke-.*|detach-.*|put-.*|update-.*|modify-.*|set-.*)$/.test(
            text,
          ),
        )
      )
        return true;
      return (
        program === 'aws' &&
        plain[0] === 's3' &&
        ['cp', 'mv'].includes(plain[1] ?? '') &&
        plain.slice(2).some((text, index, list) => index === list.length - 1 && text.startsWith('s3://'))
      );
    },
  },
  {
    name: 'sql-from-a-file',
    action: 'ask',
    reason: 'runs SQL from a file or stdin the policy cannot see (psql -f, mysql < file, mongosh script.js)',
    matches: (segment) => {
      const program = name(segment);
      const words = args(segment).map((word) => word.text);
      const stdinFile =
        segment.redirects.some((redirect) => redirect.operator === '<') ||
        segment.pipedInput ||
        segment.stdinText !== undefined;
      if (
        program === 'psql' &&
        words.some((text, index) =>
          (/^-[a-zA-Z]*o$/.test(text)
            ? (words[index + 1] ?? '')
            : (/^-o(.+)/.exec(text)?.[1] ??
              (abbreviates(text, '--output') ? (text.split('=')[1] ?? words[index + 1] ?? '') : ''))
          ).startsWith('|'),
        )
      )
        return true;
      if (['mysql', 'mariadb'].includes(program) && words.some((text) => abbreviates(text, '--init-command')))
        return true;
      if (program === 'psql')
        return (
          words.some((text) => /^(?:-f|--file(?:=|$))/.test(text)) ||
          (stdinFile && !words.some((text) => /^(?:-c|--command(?:=|$))/.test(text)))
        );
      if (['mysql', 'mariadb', 'sqlite3', 'sqlcmd', 'clickhouse-client', 'cqlsh'].includes(program))
        return (
          stdinFile ||
          words.some((text) => /^(?:-f|--file(?:=|$)|-i|--input-file)/.test(text)) ||
          words.some((text) => /^\s*(?:source|\\\.)\s/i.test(text))
        );
      if (['mongo', 'mongosh'].includes(program))
        return stdinFile || words.some((text) => /\.js$/.test(text) || /^--file(?:=|$)|^-f$/.test(text));
      return false;
    },
  },
  {
    name: 'key-value-store-delete',
    action: 'ask',
    reason: 'deletes or overwrites keys, secrets or members of etcd, Consul or Vault',
    matches: (segment) => {
      const program = name(segment);
      const plain = positionals(segment, [
        '--endpoints',
        '--cacert',
        '--cert',
        '--key',
        '-address',
        '-namespace',
        '-mount',
      ]);
      if (program === 'etcdctl')
        return (
          /^(?:del|put|compact|defrag|txn|lease|member|snapshot|auth|user|role|move-leader|elect|lock)$/.test(
            plain[0] ?? '',
          ) &&
          !(plain[0] === 'member' && plain[1] === 'list') &&
          !(plain[0] === 'snapshot' && plain[1] === 'status')
        );
      if (program === 'consul')
        return (
          (plain[0] === 'kv' && /^(?:delete|put|import)$/.test(plain[1] ?? '')) ||
          (plain[0] === 'services' && plain[1] === 'deregister') ||
          plain[0] === 'leave' ||
          plain[0] === 'force-leave' ||
          (plain[0] === 'acl' && /delete|update/.test(plain[2] ?? plain[1] ?? ''))
        );
      if (program === 'vault')
        return plain.some((text) =>
          /^(?:delete|destroy|put|patch|write|disable|revoke|seal|step-down|rotate|undelete|rollback|unwrap)$/.test(
            text,
          ),
        );
      return false;
    },
  },
  {
    name: 'kill-processes',
    action: 'ask',
    reason: 'kills processes (kill -9, killall, pkill) without letting them clean up',
    matches: (segment) => {
      const program = name(segment);
      if (program === 'fuser') return options(segment).some((option) => /^-[a-zA-Z]*k|^--kill/.test(option));
      if (program === 'killall' || program === 'pkill')
        return !options(segment).some((option) => option === '-l' || option === '--list');
      if (program === 'kill') {
        const words = args(segment).map((word) => word.text);
        return (
          words.some(
            (text, index) =>
              /^-(?:9|KILL|SIGKILL|s)$/i.test(text) &&
              (text !== '-s' || /^(?:9|KILL|SIGKILL)$/i.test(words[index + 1] ?? '')),
          ) || words.includes('--signal')
        );
      }
      return false;
    },
  },
  {
    name: 'change-network',
    action: 'ask',
    reason: 'changes network interfaces, addresses or routes, which can cut off access',
    matches: (segment) => {
      const program = name(segment);
      const plain = positionals(segment, ['-n', '-netns', '-f', '-family']);
      if (program === 'ip') {
        const [object = '', verb = ''] = plain;
        if (args(segment).some((word) => /^--?b(?:a(?:t(?:ch?)?)?)?$/.test(word.text))) return true;
        if (object === 'netns') return /^(?:add|del|delete|set|attach)$/.test(verb);
        if (
          /^(?:l|li|lin|link|a|ad|add|addr|address|r|ro|rou|route|ru|rule|n|ne|neigh|neighbour|neighbor|tunnel|tuntap|xfrm|mroute|maddr|vrf|nexthop|tc)$/.test(
            object,
          )
        )
          // ip takes any prefix of a verb and tries the changing ones first (`ip l s` is `set`).
          return (
            verb !== '' &&
            /^[a-z]+$/.test(verb) &&
            [
              'set',
              'add',
              'delete',
              'flush',
              'change',
              'replace',
              'append',
              'prepend',
              'exchange',
              'restore',
            ].some((full) => full.startsWith(verb))
          );
        return false;
      }
      if (program === 'ifconfig') return plain.length > 1;
      if (['ifdown', 'ifup', 'dhclient', 'brctl', 'vconfig', 'ethtool'].includes(program))
        return (
          program !== 'ethtool' ||
          options(segment).some((option) =>
            /^-[sKGAEpfrL]$|^--(?:change|set|flash|reset|identify)/.test(option),
          )
        );
      if (program === 'nmcli')
        return plain.some((text) => /^(?:down|delete|del|modify|mod|off|disconnect|reload|add)$/.test(text));
      if (program === 'route') return plain.some((text) => /^(?:add|del|delete|flush)$/.test(text));
      if (program === 'tc')
        return plain.some((text) => /^(?:add|del|delete|change|replace|flush)$/.test(text));
      return false;
    },
  },
  {
    name: 'clock-hostname-or-logs',
    action: 'ask',
    reason:
      'changes the clock or the host name, or clears logs (journalctl --vacuum, logrotate -f, dmesg -C)',
    matches: (segment) => {
      const program = name(segment);
      const words = args(segment).map((word) => word.text);
      const plain = positionals(segment);
      if (program === 'hostnamectl' || program === 'timedatectl' || program === 'localectl')
        return /^(?:set-.*|hostname)$/.test(plain[0] ?? '') && (plain[0] !== 'hostname' || plain.length > 1);
      if (program === 'hostname')
        return (
          plain.length > 0 ||
          words.some(
            (text) =>
              /^-[a-zA-Z]*[Fb]/.test(text) || abbreviates(text, '--file') || abbreviates(text, '--boot'),
          )
        );
      if (program === 'ss') return words.some((text) => /^(?:-[a-zA-Z]*K|--k(?:i(?:l(?:l)?)?)?)$/.test(text));
      if (program === 'arp')
        return words.some((text) => /^-[a-zA-Z]*[dsf]/.test(text) || /^--(?:d|s|f)/.test(text));
      if (program === 'date')
        return (
          words.some((text) => /^-[a-zA-Z]*s/.test(text) || abbreviates(text, '--set')) ||
          plain.some((text) => /^\d{8,12}(?:\.\d\d)?$/.test(text))
        );
      if (program === 'hwclock')
        return words.some((text) => /^(?:--set|-w|--systohc|-s|--hctosys|--adjust|-a)$/.test(text));
      if (program === 'journalctl')
        return words.some(
          (text) =>
            /^--(?:vacuum-|rotate|flush|relinquish-var|sync|setup-keys)/.test(text) ||
            [
              '--vacuum-size',
              '--vacuum-time',
              '--vacuum-files',
              '--rotate',
              '--flush',
              '--relinquish-var',
              '--setup-keys',
            ].some((full) => abbreviates(text, full)),
        );
      if (program === 'logrotate')
        return (
          words.some((text) => /^(?:-f|--force)$/.test(text)) ||
          !words.some((text) => /^(?:-d|--debug)$/.test(text))
        );
      if (program === 'dmesg')
        return words.some((text) =>
          /^(?:-C|--clear|-c|--read-clear|-n|--console-level|-D|--console-off|-E|--console-on)$/.test(text),
        );
      return false;
    },
  },
  {
    name: 'remove-or-edit-files',
    action: 'ask',
    reason: 'removes a file or writes files (unlink, find -fprint, ed scripts)',
    matches: (segment) => {
      const program = name(segment);
      if (program === 'unlink') return true;
      if (program === 'find')
        return args(segment).some((word) => /^-f(?:print0?|printf|ls)$/.test(word.text));
      return false;
    },
  },
  {
    name: 'request-that-changes-data',
    action: 'ask',
    reason: 'sends an HTTP request that can change data (DELETE, PUT, PATCH, POST data or uploads)',
    matches: (segment) => {
      const program = name(segment);
      const words = args(segment).map((word) => word.text);
      if (program === 'curl')
        return words.some(
          (text, index) =>
            (/^(?:-X|--request)$/.test(text) &&
              /^(?:DELETE|PUT|PATCH|POST)$/i.test(words[index + 1] ?? '')) ||
            /^(?:-X|--request=)(?:DELETE|PUT|PATCH|POST)$/i.test(text) ||
            /^(?:-d|--data|--data-raw|--data-binary|--data-urlencode|--json|-F|--form|--form-string|-T|--upload-file)(?:=|$)/.test(
              text,
            ) ||
            /^-[a-zA-Z]*[dFT].+/.test(text),
        );
      if (program === 'wget')
        return words.some((text) =>
          /^--(?:method|post-data|post-file|body-data|body-file)(?:=|$)/.test(text),
        );
      if (program === 'http' || program === 'https' || program === 'xh')
        return /^(?:DELETE|PUT|PATCH|POST)$/i.test(positionals(segment)[0] ?? '');
      return false;
    },
  },
  {
    name: 'program-in-a-variable',
    action: 'ask',
    reason: 'a variable names a program that is run later (GIT_PAGER, GIT_SSH_COMMAND, LESSOPEN, EDITOR...)',
    matches: (segment) =>
      segment.assignments.some((assignment) => programVariable(assignment.name, assignment.value)) ||
      (['export', 'declare', 'typeset', 'env'].includes(name(segment)) &&
        args(segment).some((word) => {
          const at = word.text.indexOf('=');
          return (
            at > 0 && programVariable(word.text.slice(0, at), { ...word, text: word.text.slice(at + 1) })
          );
        })),
  },
  {
    name: 'extract-into-system-path',
    action: 'ask',
    reason: 'extracts an archive into a system location, overwriting its files',
    matches: (segment) => {
      const program = name(segment);
      const words = args(segment).map((word) => word.text);
      if (['tar', 'gtar', 'bsdtar'].includes(program)) {
        const extracting = words.some(
          (text, index) =>
            /^--extract$|^--get$/.test(text) ||
            (index === 0 && /^[a-zA-Z]*x/.test(text)) ||
            /^-[a-zA-Z]*x/.test(text),
        );
        if (!extracting) return false;
        if (words.some((text) => /^(?:-P|--absolute-names)$/.test(text))) return true;
        return words.some(
          (text, index) =>
            (/^(?:-C|--directory)$/.test(text) && isSystemTarget(words[index + 1] ?? '')) ||
            (/^--directory=/.test(text) && isSystemTarget(text.slice(12))) ||
            (/^-C\//.test(text) && isSystemTarget(text.slice(2))),
        );
      }
      if (program === 'unzip' || program === '7z' || program === 'cpio')
        return (
          words.some(
            (text, index) =>
              (text === '-d' && isSystemTarget(words[index + 1] ?? '')) ||
              (/^-o\//.test(text) && isSystemTarget(text.slice(2))),
          ) ||
          (program === 'cpio' &&
            words.some((text) => /^-[a-zA-Z]*i/.test(text)) &&
            words.some((text) => text === '--no-absolute-filenames') === false &&
            segment.pipedInput)
        );
      return false;
    },
  },
  {
    name: 'install-packages',
    action: 'ask',
    reason: 'installs or upgrades packages, which runs their install scripts (often as root)',
    matches: (segment) => {
      const program = name(segment);
      const plain = positionals(segment);
      if (
        [
          'apt-get',
          'apt',
          'aptitude',
          'yum',
          'dnf',
          'zypper',
          'apk',
          'pacman',
          'snap',
          'brew',
          'port',
          'flatpak',
        ].includes(program)
      )
        return (
          plain.some((text) =>
            /^(?:install|reinstall|upgrade|dist-upgrade|full-upgrade|update|add|localinstall|downgrade|refresh|-S|-U)$/.test(
              text,
            ),
          ) ||
          (program === 'pacman' && options(segment).some((option) => /^-[SU]/.test(option)))
        );
      if (program === 'dpkg')
        return options(segment).some((option) =>
          /^-[a-zA-Z]*i$|^--install|^--unpack|^--configure/.test(option),
        );
      if (program === 'rpm')
        return options(segment).some((option) =>
          /^-[a-zA-Z]*[iUF]|^--(?:install|upgrade|freshen)/.test(option),
        );
      if (['pip', 'pip3', 'pipx', 'gem', 'cargo', 'go', 'npm', 'pnpm', 'yarn', 'uv'].includes(program))
        return plain.some((text) => /^(?:install|i|add|upgrade|uninstall|remove|update|get)$/.test(text));
      return false;
    },
  },
];
