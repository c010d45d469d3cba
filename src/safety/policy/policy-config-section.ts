import { z } from 'zod';
import { defineConfigSection } from '../../config/config-section-definition.js';
import { parseSection } from '../../config/config-section.js';

/**
 * `policy:` in the config file: which profile judges commands and which policy file adds rules.
 * The rules themselves go in that policy file, not here.
 */
export const policyConfigSection = defineConfigSection({
  name: 'policy',
  description: 'the command policy: profile and policy file (rules go in the policy file)',
  read: (section) =>
    parseSection(
      section,
      z
        .object({
          profile: z.string().optional(),
          file: z.string().optional(),
        })
        .strict(),
    ),
  settings: { profile: 'OPSMATE_POLICY_PROFILE', file: 'OPSMATE_POLICY_FILE' },
  // Both keys are settings: `config show` lists them with the settings, with this line as source.
  rows: () => [],
});
