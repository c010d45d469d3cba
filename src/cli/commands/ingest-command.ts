import { Command, Option } from 'commander';
import { OpsmateError } from '../../errors/opsmate-error.js';
import type { CliContext } from '../cli-context.js';
import { addSettingOptions, readSettings } from '../field-options.js';
import { outputOption, parseOutputFormat, writeJson } from '../output-format.js';

const BAR_WIDTH = 24;

export function ingestCommand(context: CliContext): Command {
  const command = new Command('ingest')
    .summary('add runbooks and docs to the knowledge base the model searches (KnowledgeRetrieval)')
    .description(
      'Read a folder, a file, a glob (in quotes) or a git repository (any URL `git clone` takes, or a local ' +
        'repository with --branch) into the knowledge base: Markdown split by headings, code blocks and tables ' +
        'kept whole, secrets masked before anything is stored. Running it again is incremental: unchanged files ' +
        'are skipped, changed ones replaced, deleted ones forgotten. Embedded in <home>/knowledge unless ' +
        'OPSMATE_DB_URL names a PostgreSQL server; with OPSMATE_EMBEDDING_MODEL the chunks are embedded for hybrid search.',
    )
    .argument('<path>', 'a folder, a file, a glob such as "docs/**/*.md", or a git URL')
    .addOption(
      new Option(
        '--glob <PATTERN>',
        'which files under the folder or repository [default: **/*.{md,markdown,mdx,txt,rst}]',
      ),
    )
    .addOption(
      new Option(
        '--name <SOURCE>',
        'the source name, to re-ingest or forget it as a whole [default: the folder or repository name]',
      ),
    )
    .addOption(new Option('--branch <BRANCH>', 'the git branch or tag to ingest (clones the repository)'))
    .addOption(outputOption());
  addSettingOptions(command, ['dbUrl', 'embeddingModel']);
  command.action(
    async (
      target: string,
      options: { glob?: string; name?: string; branch?: string; output?: string },
      self: Command,
    ) => {
      const format = parseOutputFormat(options.output);
      const settings = readSettings(self, context);
      const [{ homeDir }, { ingest }, { knowledgeLocation }, { createEmbedder }, { abortOnSignals }] =
        await Promise.all([
          import('../../config/settings.js'),
          import('../../knowledge/ingest.js'),
          import('../../knowledge/knowledge-location.js'),
          import('../../knowledge/embedder.js'),
          import('../abort-on-signals.js'),
        ]);
      const home = homeDir(settings);
      const embedder = await createEmbedder({ spec: settings.embeddingModel, env: context.config.env });
      const showProgress = Boolean(context.stderr.isTTY) && context.env.CI === undefined;
      const interrupt = abortOnSignals();
      let drawn = false;
      try {
        const summary = await ingest({
          location: knowledgeLocation({ home, dbUrl: settings.dbUrl }),
          target,
          home,
          masking: { env: context.config.env },
          ...(options.glob !== undefined ? { glob: options.glob } : {}),
          ...(options.name !== undefined ? { name: options.name } : {}),
          ...(options.branch !== undefined ? { branch: options.branch } : {}),
          ...(embedder ? { embedder } : {}),
          signal: interrupt.signal,
          ...(showProgress
            ? {
                onProgress: ({ phase, done, total }) => {
                  const filled = total === 0 ? BAR_WIDTH : Math.round((done / total) * BAR_WIDTH);
                  context.stderr.write(
                    `\r\x1b[2K${'█'.repeat(filled)}${'░'.repeat(BAR_WIDTH - filled)} ${phase} ${done}/${total}`,
                  );
                  drawn = true;
                },
              }
            : {}),
        });
        if (drawn) context.stderr.write('\r\x1b[2K');
        drawn = false;
        if (summary.embeddingProblem) {
          context.logger.warn(
            `${summary.embeddingProblem}: the chunks are stored for full-text search; the next ingest embeds them`,
          );
        }
        for (const skipped of summary.skipped)
          context.logger.warn(`skipped ${skipped.path}: ${skipped.reason}`);
        if (format === 'json') {
          writeJson(context.stdout, summary);
          return;
        }
        if (summary.files === 0) {
          context.logger.warn(
            `no file under ${summary.root} matches ${options.glob ?? 'the default glob'}; nothing was ingested (choose files with --glob)`,
          );
        }
        const parts = [
          `${summary.added} new`,
          `${summary.changed} changed`,
          `${summary.unchanged} unchanged`,
          `${summary.deleted} deleted`,
        ];
        const extras = [
          `${summary.chunks} chunks written`,
          ...(summary.embedded > 0 ? [`${summary.embedded} embedded`] : []),
          ...(summary.redactions > 0 ? [`${summary.redactions} secrets masked`] : []),
        ];
        context.stdout.write(
          `ingested ${summary.source}: ${summary.files} files (${parts.join(', ')}), ${extras.join(', ')} in ${(summary.elapsedMs / 1000).toFixed(1)} s\n`,
        );
      } catch (error) {
        if (!interrupt.signal.aborted) throw error;
        // One transaction per write: an interrupted write leaves nothing of itself behind.
        throw new OpsmateError('ingest interrupted: nothing it had not committed was stored', {
          exitCode: interrupt.exitCode(),
          hint: 'run it again: files already stored and unchanged are skipped',
        });
      } finally {
        if (drawn) context.stderr.write('\n');
        interrupt.dispose();
      }
    },
  );
  return command;
}
