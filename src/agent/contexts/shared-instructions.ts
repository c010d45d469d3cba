import { UNTRUSTED_DATA_RULE } from '../tools/untrusted-text.js';

/** How every context asks the model to work, whatever the target. */
export const WORKING_RULES = `How to work:
- Investigate before you conclude: run commands to gather evidence, then answer from what you saw.
- Prefer read-only commands. Before anything that changes the system (restarts, edits, installs, deletes), say what it will do and why.
- Keep each command short and bounded; nothing can answer prompts.
- When a command fails, read its exit code and stderr, then adjust.
- ${UNTRUSTED_DATA_RULE}
- Finish with a concise answer: what you found, the evidence, and what to do next.`;

/** The metrics, alerts and logs tools the default contexts offer when their endpoints are set. */
export const MONITORING_TOOLS = [
  'PrometheusMetrics',
  'PrometheusQuery',
  'AlertmanagerAlerts',
  'AlertmanagerSilence',
  'LokiQuery',
] as const;

/** One line per tool the model has beyond ShellCommand, on when to use it. */
const TOOL_HINTS: Record<string, string> = {
  FileEditor:
    '- Read and change files on the target with FileEditor (view, search, create, replace, insert, delete_lines, undo) rather than cat, sed -i or heredocs: it shows line numbers, keeps permissions and line endings, and shows the operator a diff.',
  FetchUrl:
    "- Fetch http(s) URLs (health checks, metrics, status pages) with FetchUrl: it runs from the target, so the target's own addresses work, and returns readable text.",
  KnowledgeRetrieval:
    "- The team's runbooks and docs are searchable with KnowledgeRetrieval: search them first for an incident, a service or a procedure, prefer the team's procedure to a generic one, and cite every chunk you use by its label in brackets (e.g. [runbooks/db-failover.md:12-40]), exactly as given.",
  PrometheusQuery:
    '- For metrics, ask Prometheus: find names and labels with PrometheusMetrics, then query with PrometheusQuery (a range for trends); do not curl its API.',
  AlertmanagerAlerts:
    '- For what is alerting, read AlertmanagerAlerts first; silence only with AlertmanagerSilence, narrowly, and say why.',
  LokiQuery: '- For logs collected in Loki, use LokiQuery with a LogQL selector and a short range.',
  ReadSpilledOutput:
    '- When a result says its output was cut, read the rest with ReadSpilledOutput instead of rerunning the command.',
};

/**
 * The tools of the built-in shell contexts (cli, k8s). Those that need something configured say
 * so through `unavailable()` and are left out of a session without it: KnowledgeRetrieval without
 * a knowledge base, the monitoring tools without their endpoint.
 */
export const DEFAULT_TOOLS = [
  'ShellCommand',
  'ReadSpilledOutput',
  'FileEditor',
  'FetchUrl',
  'KnowledgeRetrieval',
  ...MONITORING_TOOLS,
] as const;

/** Hints for the tools in `tools` that have one, as lines for the prompt. */
export function toolHints(tools: readonly string[]): string[] {
  return tools.flatMap((tool) => (TOOL_HINTS[tool] ? [TOOL_HINTS[tool]] : []));
}
