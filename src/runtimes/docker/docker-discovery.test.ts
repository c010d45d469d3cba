import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dockerLabelFilters } from './docker-discovery.js';

describe('docker label selectors', () => {
  it('key and key=value terms become docker ps label filters', () => {
    assert.deepEqual(dockerLabelFilters('app=web, tier ,com.docker.compose.service=api'), [
      'label=app=web',
      'label=tier',
      'label=com.docker.compose.service=api',
    ]);
    assert.deepEqual(dockerLabelFilters('note=a=b'), ['label=note=a=b'], 'a value may hold =');
  });

  it('negation, an empty selector and a bad key are refused, not ignored', () => {
    assert.throws(() => dockerLabelFilters('app!=web'), /cannot negate/);
    assert.throws(() => dockerLabelFilters('!app'), /cannot negate/);
    assert.throws(() => dockerLabelFilters(' , '), /names no label/);
    assert.throws(() => dockerLabelFilters('-x=1'), /is not a label key/);
  });
});
