import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { withoutOwnSecrets } from './child-environment.js';
import { co } from './child-process.js';

describe('withoutOwnSecrets', () => {
  it("takes opsmate's own credentials out and keeps everything else", () => {
    const env = withoutOwnSecrets({
      PATH: '/usr/bin',
      OPENAI_API_KEY: 'sk-1',
      ANTHROPIC_API_KEY: 'sk-2',
      XAI_API_KEY: 'x',
      OPSMATE_TOKEN: 't',
      RUNTIME_SSH_PASSWORD: 'p',
      AWS_SECRET_ACCESS_KEY: 'kept: kubectl and aws need it',
      KUBECONFIG: '/k',
    });
    assert.deepEqual(env, {
      PATH: '/usr/bin',
      AWS_SECRET_ACCESS_KEY: 'kept: kubectl and aws need it',
      KUBECONFIG: '/k',
    });
  });

  it('is applied by co() to the default and to a given environment', async () => {
    process.env.OPENAI_API_KEY = 'sk-child-env-test-0123456789';
    try {
      const inherited = await co(['/bin/sh', '-c', 'env']);
      assert.equal(inherited.stdout.includes('sk-child-env-test'), false);
      assert.match(inherited.stdout, /^PATH=/m);
      const given = await co(['/bin/sh', '-c', 'env'], { env: { ...process.env, EXTRA: 'yes' } });
      assert.equal(given.stdout.includes('sk-child-env-test'), false);
      assert.match(given.stdout, /^EXTRA=yes$/m);
    } finally {
      delete process.env.OPENAI_API_KEY;
    }
  });
});
