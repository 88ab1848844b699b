// A consumer group's committed offsets as Kafka's own ConsumerGroupCommand reports them, so a
// spec's judgement of sendOffsetsToTransaction() does not rest on kafka-rx's own reading.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { bootstrap, KAFKA_SCRIPT } from './broker.js';

/** `topic:partition` -> committed offset (as printed); empty when the group has none. */
export async function groupOffsets(group: string): Promise<Map<string, string>> {
  const { stdout } = await promisify(execFile)(KAFKA_SCRIPT, ['run-class', 'org.apache.kafka.tools.consumer.group.ConsumerGroupCommand', '--bootstrap-server', bootstrap(), '--describe', '--group', group], {
    env: process.env,
    timeout: 60_000,
  }).catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? '' }));
  const offsets = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const fields = line.trim().split(/\s+/);
    // GROUP TOPIC PARTITION CURRENT-OFFSET ...
    if (fields[0] === group && fields.length >= 4) offsets.set(`${fields[1]}:${fields[2]}`, fields[3]);
  }
  return offsets;
}
