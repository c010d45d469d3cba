/**
 * FileEditor end to end: the built CLI, a fake model that calls the tool by name, and a real
 * runtime. One `solve` session views, searches, edits, creates, undoes, leaves a binary file
 * alone and is refused a stale edit; another, in the read-only profile without a terminal, is
 * refused a write. The target's files are checked behind opsmate's back, and on transports whose
 * target is another machine, a file of the same path on this machine must stay untouched.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readAuditCommands } from '../src/safety/verify-audit-log.js';
import type { TargetBackdoor } from './file-editor-suite.js';
import { FakeLlmServer, toolResultsOf, type RecordedRequest } from './fake-llm/index.js';
import { runCliIsolated } from './run-cli.js';

export interface FileToolsE2eOptions {
  name: string;
  skip?: string | false;
  runtimeArgs: string[];
  env?: Record<string, string>;
  backdoor(): TargetBackdoor;
  /** A folder on the target for the test's files. */
  scratchDir: string;
  /** The target's files are not this machine's (docker, chrooted ssh, k8s): check both. */
  separateFileSystem: boolean;
}

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

export function fileToolsE2eSuite(options: FileToolsE2eOptions): void {
  describe(`FileEditor end to end: ${options.name}`, { skip: options.skip || false }, () => {
    const dir = options.scratchDir;
    let fake: FakeLlmServer;
    let backdoor: TargetBackdoor;
    let work: string;
    before(async () => {
      fake = await FakeLlmServer.start();
      backdoor = options.backdoor();
      work = mkdtempSync(join(tmpdir(), 'opsmate-file-tools-e2e-'));
      await backdoor.sh(`rm -rf '${dir}' && mkdir -p '${dir}'`);
    });
    after(async () => {
      await fake?.close();
      await backdoor?.sh(`rm -rf '${dir}'`).catch(() => undefined);
      if (work) rmSync(work, { recursive: true, force: true });
      if (options.separateFileSystem) rmSync(dir, { recursive: true, force: true });
    });

    const cli = (args: string[], auditLog: string) =>
      runCliIsolated({
        args: [...args, '--audit-log', auditLog, ...options.runtimeArgs],
        env: { OPENAI_BASE_URL: fake.openAiBaseUrl, ...options.env },
      });
    const edit = (name: string, args: Record<string, unknown>) => ({
      toolCalls: [{ name: 'FileEditor', args: { description: name, ...args } }],
    });
    const lastResult = (request: RecordedRequest): string => toolResultsOf(request).at(-1) ?? '';

    it('views, searches, edits, creates and undoes on the target; a binary file and a stale file are left alone', async () => {
      const conf = `${dir}/app.conf`;
      const binary = `${dir}/data.bin`;
      const created = `${dir}/new/notes.txt`;
      const bytes = Buffer.alloc(4096);
      for (let index = 0; index < bytes.length; index++) bytes[index] = (index * 37) % 256;
      await backdoor.write(conf, Buffer.from('# on the target\nlisten 80;\nworkers 2;\n'));
      await backdoor.write(binary, bytes);
      await backdoor.sh(`chmod 640 '${conf}'`);
      let localCopy: Buffer | undefined;
      if (options.separateFileSystem) {
        // The same path on the opsmate machine holds something else, and must keep it.
        mkdirSync(dir, { recursive: true });
        localCopy = Buffer.from('# on the opsmate machine\nlisten 1;\n');
        writeFileSync(conf, localCopy);
      }
      fake.requests.length = 0;
      fake.enqueue(
        edit('look', { command: 'view', path: conf }),
        edit('find', { command: 'search', path: dir, pattern: 'listen' }),
        edit('change the port', {
          command: 'replace',
          path: conf,
          oldText: 'listen 80;',
          newText: 'listen 8080;',
        }),
        edit('add a line', { command: 'insert', path: conf, afterLine: 3, newText: 'keepalive 5;' }),
        edit('undo it', { command: 'undo', path: conf }),
        edit('note', { command: 'create', path: created, content: 'first line\nno newline at the end' }),
        edit('binary', { command: 'view', path: binary }),
        edit('binary edit', { command: 'replace', path: binary, oldText: '\u0000', newText: 'x' }),
        () => {
          // Someone changes the file on the target behind the model's back.
          backdoor.shSync(`printf 'workers 9;\\n' >> '${conf}'`);
          return edit('stale', {
            command: 'replace',
            path: conf,
            oldText: 'workers 2;',
            newText: 'workers 4;',
          });
        },
        { text: 'Done.' },
      );
      const auditLog = join(work, 'audit-main.jsonl');
      const run = await cli(
        ['solve', 'tune the config', '-i', '12', '--policy-profile', 'ask-destructive'],
        auditLog,
      );
      assert.equal(run.exitCode, 0, `${run.stdout}\n${run.stderr}`);
      const results = toolResultsOf(fake.requests.at(-1)!);
      assert.equal(results.length, 9, results.join('\n----\n'));
      const [view, search, replace, insert, undo, create, binaryView, binaryEdit, stale] = results as [
        string,
        string,
        string,
        string,
        string,
        string,
        string,
        string,
        string,
      ];
      assert.match(view, /\s1\t# on the target\n\s+2\tlisten 80;\n/);
      assert.match(view, new RegExp(`on the target: ${options.runtimeArgs[1] ?? 'local'} runtime`));
      assert.match(search, /app\.conf:2:listen 80;/);
      assert.match(
        replace,
        /Replaced 1 occurrence \(at line 2\)[\s\S]*Mode 0640 and owner \d+:\d+ are kept[\s\S]*-listen 80;\n\+listen 8080;/,
      );
      assert.match(insert, /Inserted 1 line after line 3/);
      assert.match(undo, /Restored the content before the insert/);
      assert.match(create, /Created the file[\s\S]*Its folder was created/);
      assert.match(binaryView, /is a binary file \(4096 bytes/);
      assert.match(binaryEdit, /Nothing was changed: .* is a binary file/);
      assert.match(stale, /Nothing was changed: .* changed on the target since you last viewed it/);
      // The target's files, behind opsmate's back.
      assert.equal(
        (await backdoor.read(conf)).toString(),
        '# on the target\nlisten 8080;\nworkers 2;\nworkers 9;\n',
      );
      assert.equal(await backdoor.sh(`ls -ln '${conf}' | awk '{print $1}'`), '-rw-r-----\n');
      assert.equal((await backdoor.read(created)).toString(), 'first line\nno newline at the end');
      assert.equal(sha256(await backdoor.read(binary)), sha256(bytes), 'the binary file changed');
      if (localCopy)
        assert.deepEqual(readFileSync(conf), localCopy, 'the local file of the same path changed');
      // The user saw the diffs; the audit log has one record per call, with digests for writes.
      assert.match(run.stdout, /FileEditor replace [^\n]*app\.conf/);
      assert.match(run.stdout, /-listen 80;\n\+listen 8080;/);
      const records = readAuditCommands(auditLog).filter((record) => record.tool === 'FileEditor');
      assert.equal(records.length, 9);
      const write = records.find(
        (record) => record.command.includes('"replace"') && record.command.includes('listen 80'),
      );
      assert.deepEqual(write?.files?.[0]?.path, conf);
      assert.match(write?.files?.[0]?.before ?? '', /^[0-9a-f]{64}$/);
      assert.equal(write?.exitCode, 0);
      const refused = records.filter((record) => record.decidedBy === 'tool');
      assert.equal(refused.length, 2, 'the binary edit and the stale edit are refused by the tool');
    });

    it('is refused a write in the read-only profile without a terminal, and changes nothing', async () => {
      const conf = `${dir}/locked.conf`;
      await backdoor.write(conf, Buffer.from('mode=safe\n'));
      fake.requests.length = 0;
      fake.enqueue(
        edit('change', { command: 'replace', path: conf, oldText: 'mode=safe', newText: 'mode=unsafe' }),
        (request) => ({
          text: lastResult(request).includes('NOT run') ? 'It was refused.' : 'It ran.',
        }),
      );
      const auditLog = join(work, 'audit-read-only.jsonl');
      const run = await cli(['solve', 'change the mode'], auditLog);
      assert.equal(run.exitCode, 0, run.stderr);
      assert.match(run.stdout, /It was refused\./);
      const [result] = toolResultsOf(fake.requests.at(-1)!);
      assert.match(
        result!,
        /The FileEditor call was NOT run: needs approval \(.*judged as the shell command: tee -- .*\) but there is no terminal to ask/,
      );
      assert.equal((await backdoor.read(conf)).toString(), 'mode=safe\n');
      const [record] = readAuditCommands(auditLog).filter((entry) => entry.tool === 'FileEditor');
      assert.equal(record?.outcome, 'cancelled');
      assert.equal(record?.decidedBy, 'no-terminal');
      assert.equal(record?.profile, 'read-only');
    });
  });
}
