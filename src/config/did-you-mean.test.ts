import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MONITORING_SETTING_NAMES } from '../monitoring/monitoring-settings.js';
import { didYouMean } from './did-you-mean.js';

describe('didYouMean', () => {
  it('finds typos by edit distance', () => {
    assert.equal(
      didYouMean('RUNTIME_SSH_HOTS', ['RUNTIME_SSH_HOST', 'RUNTIME_SSH_PORT']),
      'RUNTIME_SSH_HOST',
    );
    assert.equal(didYouMean('opsmate_modle', ['OPSMATE_MODEL']), 'OPSMATE_MODEL');
    assert.equal(didYouMean('SOMETHING_ELSE', ['OPSMATE_MODEL']), undefined);
  });

  it("maps the words other tools use to opsmate's own, before the nearest typo", () => {
    const names = [...MONITORING_SETTING_NAMES, 'OPENAI_BASE_URL', 'OPENAI_API_KEY'];
    const cases: Array<[string, string]> = [
      ['PROMETHEUS_URL', 'PROMETHEUS_ENDPOINT'],
      ['LOKI_ADDRESS', 'LOKI_ENDPOINT'],
      ['ALERTMANAGER_URL', 'ALERTMANAGER_ENDPOINT'],
      ['PROMETHEUS_TOKEN', 'PROMETHEUS_API_KEY'],
      ['LOKI_PASSWORD', 'LOKI_API_KEY'],
      ['LOKI_USERNAME', 'LOKI_USER_ID'],
      ['PROMETHEUS_CA_CERT', 'PROMETHEUS_CA_FILE'],
      ['prometheus_insecure', 'PROMETHEUS_TLS_SKIP_VERIFY'],
      ['OPENAI_URL', 'OPENAI_BASE_URL'],
      ['OPENAI_TOKEN', 'OPENAI_API_KEY'],
    ];
    for (const [typed, meant] of cases) assert.equal(didYouMean(typed, names), meant, typed);
  });

  it('suggests nothing for a name that exists only in another spelling of itself', () => {
    assert.equal(didYouMean('PROMETHEUS_ENDPOINT', ['PROMETHEUS_ENDPOINT']), 'PROMETHEUS_ENDPOINT');
    assert.equal(didYouMean('REDIS_URL', MONITORING_SETTING_NAMES), undefined);
  });
});
