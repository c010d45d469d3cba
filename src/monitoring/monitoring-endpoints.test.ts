import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { monitoringEndpoint, monitoringUnavailable } from './monitoring-endpoints.js';

describe('monitoring endpoints from env names', () => {
  it('is unavailable, with the reason, until the endpoint is set', () => {
    assert.equal(monitoringUnavailable('loki', {}), 'LOKI_ENDPOINT is not set (env or config file)');
    assert.equal(monitoringEndpoint('loki', { LOKI_ENDPOINT: ' ' }), undefined);
    assert.equal(monitoringUnavailable('prometheus', { PROMETHEUS_ENDPOINT: 'http://p:9090' }), undefined);
  });

  it('Grafana Cloud style: path prefix, USER_ID and API_KEY as basic auth; an API path in _PATH is dropped', () => {
    const endpoint = monitoringEndpoint('prometheus', {
      PROMETHEUS_ENDPOINT: 'https://prometheus-prod.grafana.net/',
      PROMETHEUS_PATH: '/api/prom/api/v1/query',
      PROMETHEUS_USER_ID: '1234',
      PROMETHEUS_API_KEY: 'glc_x',
    })!;
    assert.equal(endpoint.baseUrl, 'https://prometheus-prod.grafana.net/api/prom');
    assert.equal(endpoint.headers.authorization, `Basic ${Buffer.from('1234:glc_x').toString('base64')}`);
    const loki = monitoringEndpoint('loki', {
      LOKI_ENDPOINT: 'logs:3100',
      LOKI_PATH: '/loki/api/v1/query_range',
    })!;
    assert.equal(loki.baseUrl, 'http://logs:3100');
  });

  it('an API key alone is a bearer token; headers and credentials in the URL are read', () => {
    const bearer = monitoringEndpoint('alertmanager', {
      ALERTMANAGER_ENDPOINT: 'http://am:9093',
      ALERTMANAGER_API_KEY: 't0k',
    })!;
    assert.equal(bearer.headers.authorization, 'Bearer t0k');
    const inUrl = monitoringEndpoint('prometheus', {
      PROMETHEUS_ENDPOINT: 'http://u:p%40ss@p:9090',
      PROMETHEUS_HEADERS: 'X-Scope-OrgID: a\nX-B: 2',
    })!;
    assert.equal(inUrl.baseUrl, 'http://p:9090');
    assert.equal(inUrl.headers.authorization, `Basic ${Buffer.from('u:p@ss').toString('base64')}`);
    assert.equal(inUrl.headers['x-scope-orgid'], 'a');
    assert.equal(inUrl.headers['x-b'], '2');
  });

  it('rejects bad values with a message naming the setting', () => {
    assert.throws(
      () => monitoringEndpoint('prometheus', { PROMETHEUS_ENDPOINT: 'ftp://x' }),
      /PROMETHEUS_ENDPOINT=ftp:\/\/x: only http/,
    );
    assert.throws(
      () => monitoringEndpoint('prometheus', { PROMETHEUS_ENDPOINT: 'http://x', PROMETHEUS_FROM: 'moon' }),
      /PROMETHEUS_FROM=moon: expected opsmate or target/,
    );
    assert.throws(
      () => monitoringEndpoint('prometheus', { PROMETHEUS_ENDPOINT: 'http://x', PROMETHEUS_USER_ID: 'u' }),
      /PROMETHEUS_USER_ID is set without PROMETHEUS_API_KEY/,
    );
    assert.throws(
      () => monitoringEndpoint('loki', { LOKI_ENDPOINT: 'http://x', LOKI_HEADERS: 'no colon' }),
      /LOKI_HEADERS: "no colon" is not a header/,
    );
    assert.throws(
      () => monitoringEndpoint('loki', { LOKI_ENDPOINT: 'http://x', LOKI_TLS_SKIP_VERIFY: 'maybe' }),
      /LOKI_TLS_SKIP_VERIFY=maybe/,
    );
    assert.equal(
      monitoringEndpoint('loki', { LOKI_ENDPOINT: 'https://x', LOKI_TLS_SKIP_VERIFY: 'true' })!.skipTlsVerify,
      true,
    );
  });
});
