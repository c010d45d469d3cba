/**
 * FileEditor through a real runtime, in process (no CLI, no model): every command, byte-exact
 * transfers, permissions kept, stale files refused, the guard's policy, review and audit. A
 * transport calls `fileEditorSuite` with a way to create its runtime and a way to reach the
 * target's files behind opsmate's back (`docker exec`, ssh, the local file system).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { fileEditorTool } from '../src/agent/tools/file-editor/file-editor-tool.js';
import type { ToolDefinition } from '../src/agent/tools/tool-contract.js';
import type { Runtime } from '../src/runtime/contract.js';
import type { PolicyProfile } from '../src/safety/command-policy.js';
import { guardedToolSession, ScriptedReviewer, type GuardedToolSession } from './guarded-tool-session.js';

const tool = fileEditorTool as unknown as ToolDefinition;

/** Reaches the target's files without opsmate, to set up and check what the tool did. */
export interface TargetBackdoor {
  /** Runs a POSIX sh script on the target; resolves with its stdout, rejects on a non-zero exit. */
  sh(script: string): Promise<string>;
  /** The same, synchronously (for use inside a scripted model reply). */
  shSync(script: string): string;
  write(path: string, data: Buffer): Promise<void>;
  read(path: string): Promise<Buffer>;
}

export interface FileEditorSuiteOptions {
  name: string;
  skip?: string | false;
  createRuntime(): Runtime;
  backdoor(): TargetBackdoor;
  /** A folder on the target for the test's files; created and removed by the suite. */
  scratchDir: string;
}

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

export function fileEditorSuite(options: FileEditorSuiteOptions): void {
  describe(`FileEditor on the target: ${options.name}`, { skip: options.skip || false }, () => {
    const dir = options.scratchDir;
    let backdoor: TargetBackdoor;
    const sessions: GuardedToolSession[] = [];
    const open = (
      profile: PolicyProfile = 'ask-destructive',
      reviewer?: ScriptedReviewer,
      maxOutputLength?: number,
    ) => {
      const session = guardedToolSession({
        runtime: options.createRuntime(),
        profile,
        ...(reviewer ? { reviewer } : {}),
        ...(maxOutputLength ? { maxOutputLength } : {}),
      });
      sessions.push(session);
      return session;
    };
    const call = (session: GuardedToolSession, args: Record<string, unknown>) => session.call(tool, args);

    before(async () => {
      backdoor = options.backdoor();
      await backdoor.sh(`rm -rf '${dir}' && mkdir -p '${dir}/conf.d/deep/deeper'`);
    });
    after(async () => {
      for (const session of sessions) await session.close();
      await backdoor?.sh(`rm -rf '${dir}'`).catch(() => undefined);
    });

    it('views a file with line numbers and its facts, a range, a folder, and pages a long file', async () => {
      await backdoor.write(
        `${dir}/app.conf`,
        Buffer.from('listen 80;\nworkers 4;\npassword=hunter2-secret\n'),
      );
      await backdoor.sh(
        `chmod 640 '${dir}/app.conf'; for i in $(seq 1 3000); do echo "line $i of a long file"; done > '${dir}/long.log'; echo x > '${dir}/conf.d/a.conf'; echo y > '${dir}/conf.d/deep/deeper/b.conf'`,
      );
      const session = open('read-only', undefined, 4000);
      const view = await call(session, { command: 'view', path: `${dir}/app.conf` });
      assert.equal(view.isError, false, view.llmContent);
      assert.match(view.llmContent, /46 bytes, 3 lines, mode 0640, owner \d+:\d+, sha256 [0-9a-f]{12}/);
      assert.match(
        view.llmContent,
        /<untrusted-data id="\w+" source="file">\n {5}1\tlisten 80;\n {5}2\tworkers 4;\n {5}3\tpassword=\[REDACTED:[\w-]+\]\n<\/untrusted/,
      );
      assert.doesNotMatch(view.llmContent, /hunter2/);
      const range = await call(session, {
        command: 'view',
        path: `${dir}/app.conf`,
        startLine: 2,
        endLine: 2,
      });
      assert.match(
        range.llmContent,
        /Lines 2-2 of 3 \(view more with startLine 3\):\n<untrusted-data[^\n]*>\n {5}2\tworkers 4;\n</,
      );
      const long = await call(session, { command: 'view', path: `${dir}/long.log` });
      const shown = /Lines 1-(\d+) of 3000 \(view more with startLine (\d+)\)/.exec(long.llmContent);
      assert.ok(shown, long.llmContent.slice(0, 300));
      assert.ok(Number(shown[1]) > 50 && Number(shown[1]) < 3000, 'one page fits the output limit');
      assert.ok(long.llmContent.length < 6000, `the page is ${long.llmContent.length} characters`);
      const next = await call(session, {
        command: 'view',
        path: `${dir}/long.log`,
        startLine: Number(shown[2]),
      });
      assert.match(next.llmContent, new RegExp(`\\n\\s+${shown[2]}\\tline ${shown[2]} of a long file\\n`));
      const folder = await call(session, { command: 'view', path: dir, depth: 2 });
      assert.match(
        folder.llmContent,
        /\napp\.conf\nconf\.d\/\nconf\.d\/a\.conf\nconf\.d\/deep\/\nlong\.log\n/,
      );
      assert.doesNotMatch(folder.llmContent, /deeper/, 'two levels only');
      // Read-only calls run unasked in the read-only profile, each recorded once.
      assert.equal(session.reviewer.asked.length, 0);
      const records = session.audit();
      assert.equal(records.length, 5);
      assert.ok(
        records.every(
          (record) => record.tool === 'FileEditor' && record.exitCode === 0 && record.profile === 'read-only',
        ),
      );
      assert.match(
        records[0]!.command,
        /^FileEditor \{"command":"view","path":"[^"]+app\.conf","depth":2\}$/,
      );
    });

    it('searches a file or a tree, fixed or regex, with context and line numbers', async () => {
      await backdoor.write(`${dir}/conf.d/a.conf`, Buffer.from('one\nserver_name a.example;\nthree\n'));
      await backdoor.write(
        `${dir}/conf.d/deep/deeper/b.conf`,
        Buffer.from('alpha\nbeta\nserver_name b.example;\n'),
      );
      const session = open('read-only');
      const tree = await call(session, {
        command: 'search',
        path: `${dir}/conf.d`,
        pattern: 'server_name',
        contextLines: 1,
      });
      assert.match(
        tree.llmContent,
        /a\.conf-1-one\n[^\n]*a\.conf:2:server_name a\.example;\n[^\n]*a\.conf-3-three/,
      );
      assert.match(tree.llmContent, /b\.conf:3:server_name b\.example;/);
      const regex = await call(session, {
        command: 'search',
        path: `${dir}/conf.d/a.conf`,
        pattern: '^t[a-z]+e$',
        regex: true,
        contextLines: 0,
      });
      assert.match(regex.llmContent, /a\.conf:3:three\n<\/untrusted/);
      assert.doesNotMatch(regex.llmContent, /server_name/);
      const none = await call(session, { command: 'search', path: `${dir}/conf.d`, pattern: 'no such text' });
      assert.match(none.llmContent, /: no matches\.$/);
    });

    it('creates a file, refuses to overwrite it unless asked, and undoes the creation', async () => {
      const session = open();
      const path = `${dir}/new/sub/created.txt`;
      const created = await call(session, { command: 'create', path, content: 'first\n' });
      assert.equal(created.isError, false, created.llmContent);
      assert.match(created.llmContent, /Its folder was created/);
      assert.equal((await backdoor.read(path)).toString(), 'first\n');
      const again = await call(session, { command: 'create', path, content: 'second\n' });
      assert.equal(again.isError, true);
      assert.match(again.llmContent, /already exists; view it, then call create with overwrite: true/);
      assert.equal((await backdoor.read(path)).toString(), 'first\n');
      const overwritten = await call(session, {
        command: 'create',
        path,
        content: 'second\n',
        overwrite: true,
      });
      assert.equal(overwritten.isError, false, overwritten.llmContent);
      assert.equal((await backdoor.read(path)).toString(), 'second\n');
      await call(session, { command: 'undo', path });
      assert.equal((await backdoor.read(path)).toString(), 'first\n');
      const removed = await call(session, { command: 'undo', path });
      assert.match(removed.llmContent, /Removed the file \(undoing its create\)/);
      assert.equal(await backdoor.sh(`test -e '${path}' && echo there || echo gone`), 'gone\n');
      const nothing = await call(session, { command: 'undo', path });
      assert.match(nothing.llmContent, /has not changed .* there is nothing to undo/);
    });

    it('replaces text that occurs once, says how often it occurs otherwise, inserts, deletes, undoes', async () => {
      const path = `${dir}/edit.conf`;
      await backdoor.write(path, Buffer.from('a = 1\nb = 2\nb = 2\nc = 3\n'));
      const session = open();
      const twice = await call(session, { command: 'replace', path, oldText: 'b = 2', newText: 'b = 5' });
      assert.match(
        twice.llmContent,
        /Nothing was changed: oldText occurs 2 times in [^\n]* \(at lines 2, 3\)/,
      );
      const missing = await call(session, { command: 'replace', path, oldText: '  c = 3', newText: 'c = 4' });
      assert.match(
        missing.llmContent,
        /oldText does not occur .*without its leading and trailing whitespace it occurs 1 time, at line 4/,
      );
      const replaced = await call(session, { command: 'replace', path, oldText: 'c = 3', newText: 'c = 4' });
      assert.match(replaced.llmContent, /Replaced 1 occurrence \(at line 4\)/);
      assert.match(replaced.llmContent, /-c = 3\n\+c = 4/);
      const blind = await call(session, { command: 'delete_lines', path, startLine: 2, endLine: 2 });
      assert.equal(blind.isError, false, 'the replace showed the file: its line numbers are known');
      assert.equal((await backdoor.read(path)).toString(), 'a = 1\nb = 2\nc = 4\n');
      const inserted = await call(session, { command: 'insert', path, afterLine: 0, newText: '# top' });
      assert.match(inserted.llmContent, /Inserted 1 line after line 0/);
      await call(session, { command: 'insert', path, afterLine: 4, newText: 'd = 5\ne = 6\n' });
      assert.equal((await backdoor.read(path)).toString(), '# top\na = 1\nb = 2\nc = 4\nd = 5\ne = 6\n');
      for (let undo = 0; undo < 4; undo++) await call(session, { command: 'undo', path });
      assert.equal((await backdoor.read(path)).toString(), 'a = 1\nb = 2\nb = 2\nc = 3\n');
      // Line numbers need a view: a fresh session has none.
      const fresh = open();
      const guess = await call(fresh, { command: 'insert', path, afterLine: 1, newText: 'x' });
      assert.match(guess.llmContent, /view [^\n]* first: the line numbers of insert must come from a view/);
    });

    it('keeps CRLF, a missing final newline, non-UTF-8 bytes, the mode and the owner byte for byte', async () => {
      const path = `${dir}/latin1.ini`;
      // Latin-1 "café" (0xE9) and "naïve" (0xEF), CRLF lines, no newline at the end.
      const original = Buffer.concat([
        Buffer.from('[main]\r\nname=caf'),
        Buffer.from([0xe9]),
        Buffer.from('\r\nmode=na'),
        Buffer.from([0xef]),
        Buffer.from('ve\r\nport=80'),
      ]);
      await backdoor.write(path, original);
      await backdoor.sh(`chmod 604 '${path}'; chown 65534:65534 '${path}' 2>/dev/null || true`);
      const owner = await backdoor.sh(`ls -ln '${path}' | awk '{print $3":"$4}'`);
      const session = open();
      const view = await call(session, { command: 'view', path });
      assert.match(view.llmContent, /Line endings: CRLF/);
      assert.match(view.llmContent, /No newline at the end of the file/);
      assert.match(view.llmContent, /2 bytes are not valid UTF-8/);
      const edited = await call(session, {
        command: 'replace',
        path,
        oldText: 'port=80',
        newText: 'port=8080',
      });
      assert.equal(edited.isError, false, edited.llmContent);
      assert.match(edited.llmContent, /Mode 0604 and owner \d+:\d+ are kept/);
      await call(session, { command: 'insert', path, afterLine: 1, newText: 'added=yes\n' });
      const expected = Buffer.concat([
        Buffer.from('[main]\r\nadded=yes\r\nname=caf'),
        Buffer.from([0xe9]),
        Buffer.from('\r\nmode=na'),
        Buffer.from([0xef]),
        Buffer.from('ve\r\nport=8080'),
      ]);
      assert.deepEqual(await backdoor.read(path), expected);
      assert.equal(await backdoor.sh(`ls -ln '${path}' | awk '{print $1}'`), '-rw----r--\n');
      assert.equal(await backdoor.sh(`ls -ln '${path}' | awk '{print $3":"$4}'`), owner);
      await call(session, { command: 'delete_lines', path, startLine: 5, endLine: 5 });
      assert.deepEqual(
        await backdoor.read(path),
        expected.subarray(0, expected.indexOf('\r\nport=8080')),
        'deleting the last line keeps the file without a final newline',
      );
    });

    it('leaves a binary file alone, byte for byte', async () => {
      const path = `${dir}/blob.bin`;
      const bytes = Buffer.alloc(70_000);
      for (let index = 0; index < bytes.length; index++) bytes[index] = (index * 131 + 7) % 256;
      await backdoor.write(path, bytes);
      const session = open();
      const view = await call(session, { command: 'view', path });
      assert.match(
        view.llmContent,
        /is a binary file \(70000 bytes, mode \d+, owner \d+:\d+, sha256 [0-9a-f]{12}\); it is not shown/,
      );
      assert.ok(view.llmContent.length < 600, 'no bytes of it are shown');
      const edit = await call(session, { command: 'replace', path, oldText: 'a', newText: 'b' });
      assert.match(edit.llmContent, /Nothing was changed: .* is a binary file/);
      const overwrite = await call(session, { command: 'create', path, content: 'text', overwrite: true });
      assert.match(overwrite.llmContent, /Nothing was changed: .* is a binary file/);
      assert.equal(sha256(await backdoor.read(path)), sha256(bytes));
    });

    it('moves a file larger than the output limit exactly, both ways', async () => {
      const path = `${dir}/big.txt`;
      const lines: string[] = [];
      for (let index = 0; index < 20_000; index++) lines.push(`${index}\t${'x'.repeat(index % 90)}\u00e9`);
      const content = `${lines.join('\n')}\n`;
      await backdoor.write(path, Buffer.from(content));
      const session = open('ask-destructive', undefined, 2000);
      const edited = await call(session, {
        command: 'replace',
        path,
        oldText: '\n12345\t',
        newText: '\n12345 changed\t',
      });
      assert.equal(edited.isError, false, edited.llmContent);
      const expected = content.replace('\n12345\t', '\n12345 changed\t');
      assert.equal(sha256(await backdoor.read(path)), sha256(Buffer.from(expected)));
    });

    it('refuses to change a file that changed on the target since it was viewed', async () => {
      const path = `${dir}/stale.conf`;
      await backdoor.write(path, Buffer.from('value=1\n'));
      const session = open();
      await call(session, { command: 'view', path });
      await backdoor.write(path, Buffer.from('value=1\nother=2\n'));
      const stale = await call(session, { command: 'replace', path, oldText: 'value=1', newText: 'value=3' });
      assert.equal(stale.isError, true);
      assert.match(
        stale.llmContent,
        /changed on the target since you last viewed it \(sha256 [0-9a-f]{12} then, [0-9a-f]{12} now\)\. View it again/,
      );
      assert.equal((await backdoor.read(path)).toString(), 'value=1\nother=2\n');
      const [record] = session.audit().filter((entry) => entry.command.includes('"replace"'));
      assert.equal(record?.outcome, 'cancelled');
      assert.equal(record?.decidedBy, 'tool');
      // Undo refuses too when the file changed after the tool's own change.
      await call(session, { command: 'view', path });
      await call(session, { command: 'replace', path, oldText: 'value=1', newText: 'value=3' });
      await backdoor.write(path, Buffer.from('someone else\n'));
      const undo = await call(session, { command: 'undo', path });
      assert.match(undo.llmContent, /changed since FileEditor's replace .* undoing would lose those changes/);
      assert.equal((await backdoor.read(path)).toString(), 'someone else\n');
    });

    it('asks before a write in the read-only profile, shows the diff, and runs what the reviewer edited', async () => {
      const path = `${dir}/reviewed.conf`;
      await backdoor.write(path, Buffer.from('level=info\n'));
      const refusing = open(
        'read-only',
        new ScriptedReviewer({ action: 'cancel', reason: 'needs approval but there is no terminal to ask' }),
      );
      const refused = await call(refusing, {
        command: 'replace',
        path,
        oldText: 'level=info',
        newText: 'level=debug',
      });
      assert.match(
        refused.llmContent,
        /^The FileEditor call was NOT run: needs approval but there is no terminal to ask/,
      );
      const asked = refusing.reviewer.asked[0]!;
      assert.match(asked.reason ?? '', /FileEditor is judged as the shell command: tee -- /);
      assert.match(
        asked.preview ?? '',
        /^--- a[^\n]*reviewed\.conf\n\+\+\+ b[^\n]*reviewed\.conf\n@@ -1,1 \+1,1 @@\n-level=info\n\+level=debug$/,
      );
      assert.equal((await backdoor.read(path)).toString(), 'level=info\n');
      const [refusal] = refusing.audit();
      assert.equal(refusal?.outcome, 'cancelled');
      assert.equal(refusal?.profile, 'read-only');
      const editing = open(
        'read-only',
        new ScriptedReviewer({
          action: 'edit',
          command: `FileEditor {"command":"replace","path":"${path}","oldText":"level=info","newText":"level=warn"}`,
        }),
      );
      const edited = await call(editing, {
        command: 'replace',
        path,
        oldText: 'level=info',
        newText: 'level=debug',
      });
      assert.match(edited.llmContent, /^The user edited the call before it ran:/);
      assert.equal((await backdoor.read(path)).toString(), 'level=warn\n');
      const [record] = editing.audit();
      assert.equal(record?.outcome, 'edited');
      assert.deepEqual(record?.files, [
        { path, before: sha256(Buffer.from('level=info\n')), after: sha256(Buffer.from('level=warn\n')) },
      ]);
    });

    it('judges a write through a symlink by the file it changes too', async () => {
      const real = `${dir}/real.conf`;
      const link = `${dir}/link.conf`;
      await backdoor.write(real, Buffer.from('x=1\n'));
      await backdoor.sh(`ln -sf '${real}' '${link}'`);
      const session = open('read-only', new ScriptedReviewer({ action: 'approve' }));
      const edited = await call(session, { command: 'replace', path: link, oldText: 'x=1', newText: 'x=2' });
      assert.equal(edited.isError, false, edited.llmContent);
      assert.match(
        session.reviewer.asked[0]?.reason ?? '',
        new RegExp(`tee -- \\S*link\\.conf \\S*real\\.conf`),
      );
      assert.equal((await backdoor.read(real)).toString(), 'x=2\n');
      assert.equal(await backdoor.sh(`test -L '${link}' && echo link`), 'link\n', 'the link stays a link');
    });

    it('leaves the session shell as it was: no variables, same directory', async () => {
      const runtime = options.createRuntime();
      const session = guardedToolSession({ runtime, profile: 'allow-all' });
      sessions.push(session);
      await runtime.run(`cd '${dir}/conf.d'`);
      await call(session, { command: 'create', path: `${dir}/state.txt`, content: 'x\n' });
      await call(session, { command: 'view', path: `${dir}/state.txt` });
      await call(session, { command: 'search', path: dir, pattern: 'x' });
      await call(session, { command: 'undo', path: `${dir}/state.txt` });
      // The variables the scripts use never reach the session.
      const probe = await runtime.run(
        'echo "${p-unset} ${t-unset} ${st-unset} ${h-unset} ${expect-unset} ${t1-unset} ${n-unset}"; pwd',
      );
      assert.equal(probe.stdout, `unset unset unset unset unset unset unset\n${dir}/conf.d\n`);
    });
  });
}
