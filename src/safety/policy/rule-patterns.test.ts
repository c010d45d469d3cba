import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CommandPolicy, policyFileSchema, type PolicyAction } from '../command-policy.js';

const scope = { runtime: 'local', target: {} };

async function decide(rules: unknown[], command: string, profile: 'read-only' | 'allow-all' = 'read-only') {
  const policy = new CommandPolicy({ file: policyFileSchema.parse({ rules }), profile, source: 'p' });
  return policy.evaluate(command, scope);
}

async function ruleDecides(rules: unknown[], command: string): Promise<PolicyAction | undefined> {
  const decision = await decide(rules, command, 'allow-all');
  return decision.rule.startsWith('p#') ? decision.action : undefined;
}

describe('user rules see options and their values (finding 36)', () => {
  const allowReads = [
    {
      action: 'allow',
      commands: ['kubectl get', 'docker ps', 'git log', 'systemctl status', 'helm list', 'podman ps'],
    },
  ];
  // An option's value in the place of the subcommand: never the allowed read.
  for (const command of [
    'kubectl --namespace get delete ns prod',
    'kubectl -s get delete pod x',
    'kubectl --kubeconfig get delete pod x',
    'kubectl --as get delete pod x',
    'kubectl --cont get delete pod x',
    'oc -n get delete project x',
    'docker -c ps rm -f db',
    'docker --host ps rm -f db',
    'docker -l ps rm -f db',
    'podman --url ps rm -f db',
    'git --git-dir log push --force',
    'git --work-tree log reset --hard',
    'git -C log clean -fdx',
    'systemctl -M status stop nginx',
    'systemctl --host status restart sshd',
    'systemctl -p status kill x',
    'helm -n list uninstall web',
    'helm --kube-context list rollback web 1',
  ]) {
    it(`an allow rule does not match ${command}`, async () => {
      assert.notEqual(await ruleDecides(allowReads, command), 'allow');
    });
  }
  for (const command of [
    'kubectl -n prod get pods',
    'kubectl --namespace=prod get pods -o wide',
    'kubectl get pods -l app=web',
    'docker --context prod ps -a',
    'git -C /srv/app log --oneline',
    'git --no-pager log -5',
    'systemctl -H web1 status nginx',
    'helm -n prod list',
  ]) {
    it(`an allow rule still matches ${command}`, async () => {
      assert.equal(await ruleDecides(allowReads, command), 'allow');
    });
  }

  const denyDeletes = [
    { action: 'deny', commands: ['kubectl delete', 'docker rm', 'helm uninstall', 'git push'] },
  ];
  for (const command of [
    'kubectl -n prod delete pod x',
    'kubectl --context prod delete pod x',
    'kubectl --kubeconfig /k -n prod delete pod x',
    'kubectl -sprod delete pod x',
    'kubectl --as admin delete pod x',
    'kubectl --v 9 delete pod x',
    'kubectl --unknown-flag value delete pod x',
    'docker -H ssh://prod rm -f db',
    'docker --context prod rm db',
    'helm -n prod uninstall web',
    'helm --kube-context prod uninstall web',
    'git -C repo push --force',
    'git --git-dir=.git push',
  ]) {
    it(`a deny rule matches ${command}`, async () => {
      assert.equal(await ruleDecides(denyDeletes, command), 'deny');
    });
  }

  it('an unknown program: an allow rule must hold for every reading of an option', async () => {
    const rules = [{ action: 'allow', commands: ['mytool status'] }];
    assert.equal(await ruleDecides(rules, 'mytool status'), 'allow');
    assert.equal(await ruleDecides(rules, 'mytool status --verbose'), 'allow');
    // `-x` may take `status` as its value: then the subcommand is `purge`.
    assert.equal(await ruleDecides(rules, 'mytool -x status purge'), undefined);
    assert.equal(await ruleDecides(rules, 'mytool --env status purge'), undefined);
    assert.equal(await ruleDecides(rules, 'mytool --env=prod status'), 'allow');
  });

  it('an unknown program: a deny rule matches either reading of an option', async () => {
    const rules = [{ action: 'deny', commands: ['mytool purge'] }];
    assert.equal(await ruleDecides(rules, 'mytool -x prod purge all'), 'deny');
    assert.equal(await ruleDecides(rules, 'mytool -x purge'), 'deny');
    assert.equal(await ruleDecides(rules, 'mytool -- purge'), 'deny');
    assert.equal(await ruleDecides(rules, 'mytool status purge'), undefined);
  });

  it('a word only known at run time: allow rules do not match it, deny rules do', async () => {
    assert.equal(
      await ruleDecides([{ action: 'allow', commands: ['kubectl get'] }], 'kubectl $VERB pods'),
      undefined,
    );
    assert.equal(
      await ruleDecides([{ action: 'allow', commands: ['kubectl get'] }], 'kubectl $NS get pods'),
      undefined,
    );
    assert.equal(
      await ruleDecides([{ action: 'deny', commands: ['kubectl delete'] }], 'kubectl $VERB pods'),
      'deny',
    );
    assert.equal(
      await ruleDecides([{ action: 'deny', commands: ['kubectl delete'] }], 'kubectl $NS delete pods'),
      'deny',
    );
  });

  it('an option in a deny pattern matches however the options are written', async () => {
    const rules = [{ action: 'deny', commands: ['rm -rf'] }];
    assert.equal(await ruleDecides(rules, 'rm -rf /x'), 'deny');
    assert.equal(await ruleDecides(rules, 'rm -fr /x'), 'deny');
    assert.equal(await ruleDecides(rules, 'rm -r -f /x'), 'deny');
    assert.equal(await ruleDecides(rules, 'rm -r /x'), undefined);
    assert.equal(await ruleDecides(rules, 'rm -- -rf'), undefined);
  });

  it('a deny or ask prefix matches with options between its words; an allow prefix only as written', async () => {
    const deny = [{ action: 'deny', prefix: 'systemctl stop' }];
    assert.equal(await ruleDecides(deny, 'systemctl --no-block stop nginx'), 'deny');
    assert.equal(await ruleDecides(deny, 'systemctl -q stop nginx'), 'deny');
    assert.equal(await ruleDecides(deny, 'systemctl -H web1 stop nginx'), 'deny');
    assert.equal(await ruleDecides(deny, 'systemctl status nginx'), undefined);
    const allow = [{ action: 'allow', prefix: 'systemctl restart nginx' }];
    assert.equal(await ruleDecides(allow, 'systemctl restart nginx'), 'allow');
    assert.equal(await ruleDecides(allow, 'systemctl -H db restart nginx'), undefined);
  });

  it('an exact rule matches the same words only', async () => {
    const rules = [{ action: 'allow', exact: 'rm -rf /tmp/build' }];
    assert.equal(await ruleDecides(rules, 'rm -rf /tmp/build'), 'allow');
    assert.equal(await ruleDecides(rules, 'rm  -rf  /tmp/build'), 'allow');
    assert.equal(await ruleDecides(rules, 'rm -rf /tmp/build /'), undefined);
    assert.equal(await ruleDecides(rules, 'rm -rf /tmp'), undefined);
    assert.equal(await ruleDecides(rules, 'rm -rf $DIR'), undefined);
  });

  it('an exact rule of a quoted command matches that command', async () => {
    const policy = new CommandPolicy({ profile: 'read-only' });
    policy.allowForSession("rm -rf '/tmp/my build'", scope);
    assert.equal((await policy.evaluate("rm -rf '/tmp/my build'", scope)).action, 'allow');
    assert.equal((await policy.evaluate('rm -rf "/tmp/my build"', scope)).action, 'allow');
    assert.notEqual((await policy.evaluate('rm -rf /tmp/my build', scope)).action, 'allow');
  });

  it('match: a leading (?i) ignores case', async () => {
    const rules = [{ action: 'deny', match: '(?i)drop\\s+table', language: 'sql' }];
    const policy = new CommandPolicy({
      file: policyFileSchema.parse({ rules }),
      profile: 'allow-all',
      source: 'p',
    });
    const sql = { runtime: 'pg', target: {}, language: 'sql' };
    assert.equal((await policy.evaluate('DROP TABLE users', sql)).action, 'deny');
    assert.equal((await policy.evaluate('drop table users', sql)).action, 'deny');
    assert.equal((await policy.evaluate('select 1', sql)).action, 'allow');
  });

  it('session rules: exact by default, a prefix only when asked for', async () => {
    const policy = new CommandPolicy({ profile: 'read-only' });
    policy.allowForSession('kubectl delete pod web-1', scope);
    assert.equal((await policy.evaluate('kubectl delete pod web-1', scope)).action, 'allow');
    assert.notEqual((await policy.evaluate('kubectl delete pod web-1 web-2', scope)).action, 'allow');
    assert.notEqual((await policy.evaluate('kubectl delete pod web-1 --force', scope)).action, 'allow');
    policy.allowForSession('touch /tmp/opsmate-', scope, { match: 'prefix' });
    assert.equal((await policy.evaluate('touch /tmp/opsmate- x', scope)).action, 'allow');
    assert.match((await policy.prefixProblem('kubectl delete pod', scope)) ?? '', /any target/);
    assert.match((await policy.prefixProblem('rm -rf', scope)) ?? '', /any target/);
    assert.match(
      (await policy.prefixProblem('kubectl', scope, 'kubectl delete pod web-1')) ?? '',
      /any target/,
    );
    assert.equal(await policy.prefixProblem('kubectl get', scope, 'kubectl get pods -n prod'), undefined);
    assert.equal(await policy.prefixProblem('touch /tmp/opsmate-', scope), undefined);
  });
});

describe('ask and deny rules read every option both ways', () => {
  it('a flag the spec gets wrong does not hide the subcommand from a deny rule', async () => {
    const rules = [{ action: 'deny', commands: ['kubectl delete', 'git push', 'systemctl stop'] }];
    assert.equal(await ruleDecides(rules, 'kubectl -v 6 delete pod x'), 'deny');
    assert.equal(await ruleDecides(rules, 'kubectl --v 6 delete pod x'), 'deny');
    assert.equal(await ruleDecides(rules, 'git --no-pager -p push origin main'), 'deny');
    assert.equal(await ruleDecides(rules, 'systemctl --user --now stop app'), 'deny');
    assert.equal(await ruleDecides(rules, 'kubectl get pods -n default'), undefined);
  });
  it('kubectl -v takes a value: kubectl -v 6 get pods is still a read', async () => {
    assert.equal(
      await ruleDecides([{ action: 'allow', commands: ['kubectl get'] }], 'kubectl -v 6 get pods'),
      'allow',
    );
  });
});
