import { expect } from 'chai';
import { MAX_COUNTED_TOPICS, TopicCounts } from '../../lib/producer/stats.js';

describe('TopicCounts: per-topic counters of stats$', () => {
  const written = (counts: TopicCounts, topic: string, settled = true) => {
    counts.of(topic).produced++;
    if (settled) counts.settled(topic, false);
  };

  it(`keeps at most ${MAX_COUNTED_TOPICS} topics: past that, those written to least recently with nothing pending are dropped`, () => {
    const counts = new TopicCounts();
    for (let i = 0; i < MAX_COUNTED_TOPICS; i++) written(counts, `topic-${i}`);
    expect(Object.keys(counts.snapshot())).to.have.length(MAX_COUNTED_TOPICS);
    written(counts, 'topic-0'); // the oldest becomes the most recent
    written(counts, 'one-more');
    const kept = Object.keys(counts.snapshot());
    expect(kept.length).to.be.at.most(MAX_COUNTED_TOPICS);
    expect(kept).to.include.members(['topic-0', 'one-more', `topic-${MAX_COUNTED_TOPICS - 1}`]);
    expect(kept, 'the least recently written go first').to.not.include('topic-1');
    expect(counts.snapshot()['topic-0']).to.deep.equal({ produced: 2, acknowledged: 2, failed: 0, batches: 0, batchBytes: 0 });
  });

  it('never drops a topic with records pending: their outcomes are still to be counted', () => {
    const counts = new TopicCounts();
    written(counts, 'pending', false);
    for (let i = 0; i < 3 * MAX_COUNTED_TOPICS; i++) written(counts, `topic-${i}`);
    counts.settled('pending', true);
    expect(counts.snapshot().pending).to.deep.equal({ produced: 1, acknowledged: 0, failed: 1, batches: 0, batchBytes: 0 });
    expect(Object.keys(counts.snapshot()).length).to.be.at.most(MAX_COUNTED_TOPICS);
  });

  it('a dropped topic written to again counts from 0', () => {
    const counts = new TopicCounts();
    written(counts, 'returning');
    for (let i = 0; i < MAX_COUNTED_TOPICS; i++) written(counts, `topic-${i}`);
    expect(counts.snapshot()).to.not.have.property('returning');
    written(counts, 'returning');
    expect(counts.snapshot().returning).to.deep.equal({ produced: 1, acknowledged: 1, failed: 0, batches: 0, batchBytes: 0 });
  });
});
