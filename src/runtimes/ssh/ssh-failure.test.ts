import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifySshFailure, isRetriedFailure, lastSshLine, sshFailureError } from './ssh-failure.js';

// Lines as OpenSSH 9.2 prints them (CRLF included), captured from real runs.
const SAMPLES: Array<[string, ReturnType<typeof classifySshFailure>, boolean]> = [
  ['nobody@127.0.0.1: Permission denied (publickey).\r\n', 'auth', false],
  ['Received disconnect from 10.0.0.1 port 22:2: Too many authentication failures\r\n', 'auth', false],
  [
    '@@@@@\r\n@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\r\nHost key verification failed.\r\n',
    'host-key-changed',
    false,
  ],
  [
    'No ED25519 host key is known for [127.0.0.1]:2222 and you have requested strict checking.\r\nHost key verification failed.\r\n',
    'host-key-unknown',
    false,
  ],
  ['ssh: connect to host 127.0.0.1 port 1: Connection refused\r\n', 'refused', true],
  ['ssh: Could not resolve hostname nope.invalid: Name or service not known\r\n', 'resolve', false],
  [
    'Connection timed out during banner exchange\r\nConnection to 127.0.0.1 port 9 timed out\r\n',
    'timeout',
    false,
  ],
  ['command-line: line 0: Bad configuration option: bogus\r\n', 'config', false],
  ['remote username contains invalid characters\r\n', 'config', false],
  ['kex_exchange_identification: Connection closed by remote host\r\n', 'unreachable', true],
  ['ssh: connect to host 127.0.0.2 port 22: No route to host\r\n', 'unreachable', true],
  ['something new and strange\r\n', 'other', true],
];

describe('ssh failure classification', () => {
  for (const [stderr, kind, retried] of SAMPLES) {
    it(`${kind}: ${lastSshLine(stderr)}`, () => {
      assert.equal(classifySshFailure(stderr), kind);
      assert.equal(isRetriedFailure(kind), retried);
      const error = sshFailureError({
        kind,
        stderr,
        endpoint: { host: 'db-1', port: 2222, user: 'ops', knownHostsFile: '/k' },
        attempts: 1,
        timeoutSeconds: 10,
      });
      assert.doesNotMatch(error.message, /\n/);
      assert.ok(error.hint, 'every failure says what to do');
    });
  }

  it('drops carriage returns and the "Permanently added" warning from the last line', () => {
    assert.equal(
      lastSshLine("Warning: Permanently added '[h]:1' (ED25519) to the list of known hosts.\r\nboom\r\n\r\n"),
      'boom',
    );
    assert.equal(lastSshLine("Warning: Permanently added 'h' (ED25519) to the list of known hosts.\r\n"), '');
  });
});
