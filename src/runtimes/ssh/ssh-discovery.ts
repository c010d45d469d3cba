import { userInfo } from 'node:os';
import { join } from 'node:path';
import type { RuntimeDiscovery } from '../../runtime/contract.js';

/**
 * Host aliases of `~/.ssh/config` that match ssh patterns:
 * `targets: { web: { runtime: ssh, selector: 'web-* !web-test' } }`. Each becomes a target whose
 * host is the alias, so ssh applies that Host's HostName, User, Port, ProxyJump... as it would for
 * `ssh web-1`. The config parser is loaded only when a lookup runs, not at every start.
 */
export const sshDiscovery: RuntimeDiscovery = {
  usage:
    "ssh Host patterns (web-* !web-test), matched against the Host aliases of ~/.ssh/config (or the group's configFile) and the files it Includes",
  find: async ({ selector, fields }) => {
    const { matchingAliases } = await import('./ssh-config-hosts.js');
    // ssh finds ~/.ssh through the password database, not $HOME: read the file it reads.
    const sshDir = join(userInfo().homedir, '.ssh');
    const file = fields.configFile ?? join(sshDir, 'config');
    return matchingAliases({ selector, file, sshDir }).map((alias) => ({
      name: alias,
      fields: { host: alias },
    }));
  },
};
