// The Apache Kafka version that scripts/kafka runs: KAFKA_VERSION from the environment, else the
// script's DEFAULT_KAFKA_VERSION. The script is the one place the default is written.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const SCRIPT = join(resolve(__dirname, '..', '..'), 'scripts', 'kafka');

export function kafkaVersion(): string {
  const given = process.env.KAFKA_VERSION?.trim();
  return given ? given : defaultKafkaVersion();
}

/** The script's DEFAULT_KAFKA_VERSION, whatever KAFKA_VERSION says. */
export function defaultKafkaVersion(): string {
  const m = /^DEFAULT_KAFKA_VERSION=(\S+)/m.exec(readFileSync(SCRIPT, 'utf8'));
  if (!m) throw new Error(`${SCRIPT} does not name a DEFAULT_KAFKA_VERSION`);
  return m[1];
}

/** The folder holding the jars of that version (scripts/kafka fetch fills it). */
export function kafkaLibs(version = kafkaVersion()): string {
  return join(process.env.KAFKA_RX_CACHE ?? join(resolve(__dirname, '..', '..'), '.cache'), `kafka-${version}`, 'libs');
}
