import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { groupByDocument } from './group-hits.js';
import type { KnowledgeHit } from './knowledge-base.js';

function hit(path: string, id: number, source = 'runbooks'): KnowledgeHit {
  return {
    id,
    source,
    path,
    location: `/srv/${path}`,
    title: path,
    headingPath: [],
    startLine: id,
    endLine: id + 1,
    content: `chunk ${id}`,
    score: 100 - id,
    matchedBy: ['full-text'],
  };
}

describe('groupByDocument', () => {
  it('orders documents by their best chunk and keeps each one’s chunks in rank order', () => {
    const groups = groupByDocument([hit('a.md', 1), hit('b.md', 2), hit('a.md', 3), hit('c.md', 4)], {
      documents: 5,
      chunksPerDocument: 3,
    });
    assert.deepEqual(
      groups.map((group) => [group.path, group.hits.map((h) => h.id)]),
      [
        ['a.md', [1, 3]],
        ['b.md', [2]],
        ['c.md', [4]],
      ],
    );
    assert.equal(groups[0]!.score, 99);
  });

  it('caps the documents and the chunks of each, so one long runbook cannot fill every place', () => {
    const ranked = [
      hit('a.md', 1),
      hit('a.md', 2),
      hit('a.md', 3),
      hit('a.md', 4),
      hit('b.md', 5),
      hit('c.md', 6),
    ];
    const groups = groupByDocument(ranked, { documents: 2, chunksPerDocument: 2 });
    assert.deepEqual(
      groups.map((group) => [group.path, group.hits.map((h) => h.id)]),
      [
        ['a.md', [1, 2]],
        ['b.md', [5]],
      ],
    );
  });

  it('keeps the same path of two sources apart', () => {
    const groups = groupByDocument([hit('README.md', 1, 'one'), hit('README.md', 2, 'two')], {
      documents: 5,
      chunksPerDocument: 3,
    });
    assert.deepEqual(
      groups.map((group) => group.source),
      ['one', 'two'],
    );
  });
});
