import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { builtinToolRegistry } from '../../agent/tools/builtin-tools.js';
import { toolsForLanguage } from './tools-for-language.js';

describe('toolsForLanguage', () => {
  const tools = builtinToolRegistry().list();
  const names = (list: typeof tools) => list.map((tool) => tool.definition.name);

  it('keeps every default tool for a shell, and leaves out those that need one for SQL', () => {
    assert.deepEqual(names(toolsForLanguage(tools, 'shell', false)), [
      'ShellCommand',
      'ReadSpilledOutput',
      'FileEditor',
      'FetchUrl',
      'FleetCommand',
      'KnowledgeRetrieval',
      'PrometheusMetrics',
      'PrometheusQuery',
      'AlertmanagerAlerts',
      'AlertmanagerSilence',
      'LokiQuery',
    ]);
    // KnowledgeRetrieval reads opsmate's own knowledge base: any runtime will do.
    assert.deepEqual(names(toolsForLanguage(tools, 'sql', false)), [
      'ShellCommand',
      'ReadSpilledOutput',
      'FetchUrl',
      'KnowledgeRetrieval',
      // They ask their servers from the opsmate machine (or with curl on a shell target).
      'PrometheusMetrics',
      'PrometheusQuery',
      'AlertmanagerAlerts',
      'AlertmanagerSilence',
      'LokiQuery',
    ]);
  });

  it('refuses a tool named with --tools that cannot work with the runtime', () => {
    assert.throws(
      () => toolsForLanguage(tools, 'sql', true),
      /tool FileEditor does not work with this runtime: it needs shell commands, and the runtime's are sql/,
    );
  });
});
