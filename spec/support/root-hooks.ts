// Mocha root hooks for the full run (.mocharc.json): one real Kafka for all specs, named by
// process.env.KAFKA_BROKERS. A given KAFKA_BROKERS is used as it is (after checking it answers);
// otherwise a one-node cluster is started on free ports and stopped at the end. There is no
// fallback that skips: without a broker the run fails with one sentence saying what is missing.
import { assertBrokerAnswers, missingForLocalBroker, startCluster, type LocalCluster } from './broker.js';
import { stopSecuredCluster } from './secured-cluster.js';

let cluster: LocalCluster | undefined;

export const mochaHooks = {
  async beforeAll(this: Mocha.Context): Promise<void> {
    this.timeout(240_000);
    const given = process.env.KAFKA_BROKERS?.trim();
    if (given) {
      await assertBrokerAnswers(given, 30_000);
      return;
    }
    const missing = missingForLocalBroker();
    if (missing) {
      throw new Error(`No Kafka broker for the tests: ${missing} not found and KAFKA_BROKERS is not set.`);
    }
    const started = Date.now();
    cluster = await startCluster({ nodes: 1 });
    process.env.KAFKA_BROKERS = cluster.bootstrap;
    console.log(`  [kafka-rx] Apache Kafka started at ${cluster.bootstrap} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  },

  async afterAll(this: Mocha.Context): Promise<void> {
    this.timeout(60_000);
    await stopSecuredCluster();
    if (cluster) {
      await cluster.stop();
      cluster = undefined;
      delete process.env.KAFKA_BROKERS;
    }
  },
};
