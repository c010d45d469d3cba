import { modelsConfigSection } from '../agent/providers/models-config-section.js';
import { mcpServersConfigSection } from '../mcp/client/mcp-server-config.js';
import { policyConfigSection } from '../safety/policy/policy-config-section.js';
import { targetsConfigSection } from '../targets/targets-config-section.js';
import type { ConfigSectionDefinition } from './config-section-definition.js';

/**
 * The sections of the config file, one line each. A feature that needs its own section
 * (`targets:`, `mcpServers:`) defines it next to its code with `defineConfigSection` and adds it
 * here; the file's parser, the unknown-key check, `config show` and the errors follow.
 */
export const CONFIG_SECTIONS: readonly ConfigSectionDefinition[] = [
  policyConfigSection,
  modelsConfigSection,
  mcpServersConfigSection,
  targetsConfigSection,
];
