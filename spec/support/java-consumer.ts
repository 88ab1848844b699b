// Kafka's Java consumer (kafka-clients from scripts/kafka's jars) reading a topic with an isolation
// level: the second independent judge, beside kcat, of what transactions left visible.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { bootstrap as defaultBootstrap } from './broker.js';
import { kafkaLibs } from './kafka-version.js';

export interface JavaRecord {
  partition: number;
  offset: bigint;
  value: Buffer;
}

/** Every record of the topic as the Java consumer reads it (read_committed: up to the last stable offset). */
export async function javaConsumeAll(topic: string, isolation: 'read_committed' | 'read_uncommitted', options: { bootstrap?: string } = {}): Promise<JavaRecord[]> {
  const java = process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
  const { stdout } = await promisify(execFile)(
    java,
    ['-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC', '-Xmx256m', '-Dlog4j2.configurationFile=' + join(__dirname, '..', '..', 'bench', 'drivers', 'java-log4j2.xml'),
      '-Dlog4j.configuration=file:' + join(__dirname, '..', '..', 'bench', 'drivers', 'java-log4j.properties'),
      '-cp', `${kafkaLibs()}/*`, join(__dirname, 'ReadCommittedConsumer.java'), options.bootstrap ?? defaultBootstrap(), topic, isolation],
    { timeout: 120_000, maxBuffer: 256 * 1024 * 1024 },
  );
  return stdout.split('\n').filter(Boolean).map((line) => {
    const [partition, offset, hex] = line.split(' ');
    return { partition: Number(partition), offset: BigInt(offset), value: Buffer.from(hex ?? '', 'hex') };
  });
}
