// Kafka's own Java consumer as an independent judge of what transactions left visible: reads every
// partition of a topic from the beginning to its end (for read_committed, the last stable offset)
// with the isolation level given, and prints one line per record: partition, offset, value in hex.
// Run by spec/support/java-consumer.ts as a single-file program on the kafka-clients jar that
// scripts/kafka resolves.
import java.time.Duration;
import java.util.*;
import org.apache.kafka.clients.consumer.*;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

public class ReadCommittedConsumer {
  public static void main(String[] args) throws Exception {
    String bootstrap = args[0], topic = args[1], isolation = args[2];
    Properties props = new Properties();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation);
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props)) {
      List<TopicPartition> partitions = new ArrayList<>();
      for (PartitionInfo info : consumer.partitionsFor(topic, Duration.ofSeconds(30))) partitions.add(new TopicPartition(topic, info.partition()));
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      Map<TopicPartition, Long> end = consumer.endOffsets(partitions, Duration.ofSeconds(30));
      long deadline = System.currentTimeMillis() + 60_000;
      StringBuilder out = new StringBuilder();
      while (System.currentTimeMillis() < deadline) {
        boolean done = true;
        for (TopicPartition tp : partitions) if (consumer.position(tp) < end.get(tp)) done = false;
        if (done) break;
        for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(500))) {
          out.append(record.partition()).append(' ').append(record.offset()).append(' ').append(HexFormat.of().formatHex(record.value())).append('\n');
        }
      }
      for (TopicPartition tp : partitions) {
        if (consumer.position(tp) < end.get(tp)) throw new IllegalStateException("did not reach the end of " + tp);
      }
      System.out.print(out);
    }
  }
}
