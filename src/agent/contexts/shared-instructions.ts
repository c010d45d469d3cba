import { UNTRUSTED_DATA_RULE } from '../tools/untrusted-text.js';

/** How every context asks the model to work, whatever the target. */
export const WORKING_RULES = `How to work:
- Investigate before you conclude: run commands to gather evidence, then answer from what you saw.
- Prefer read-only commands. Before anything that changes the system (restarts, edits, installs, deletes), say what it will do and why.
- Keep each command short and bounded; nothing can answer prompts.
- When a command fails, read its exit code and stderr, then adjust.
- ${UNTRUSTED_DATA_RULE}
- Finish with a concise answer: what you found, the evidence, and what to do next.`;
