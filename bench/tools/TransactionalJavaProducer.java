// Kafka's Java producer writing transactions, for bench/transactions.ts: TRANSACTIONS transactions
// of RECORDS records of SIZE bytes to TOPIC, each committed, and prints the seconds they took.
// Run as a single-file program on the kafka-clients jar that scripts/kafka resolves.
import java.util.*;
import org.apache.kafka.clients.producer.*;
import org.apache.kafka.common.serialization.ByteArraySerializer;

public class TransactionalJavaProducer {
  public static void main(String[] args) throws Exception {
    String bootstrap = args[0], topic = args[1];
    int transactions = Integer.parseInt(args[2]), records = Integer.parseInt(args[3]), size = Integer.parseInt(args[4]);
    Properties props = new Properties();
    props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "bench-java-" + topic);
    props.put(ProducerConfig.LINGER_MS_CONFIG, "10");
    props.put(ProducerConfig.BATCH_SIZE_CONFIG, "131072");
    props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    byte[] block = new byte[8 * 1024 * 1024 + size];
    new Random(1).nextBytes(block);
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props)) {
      producer.initTransactions();
      long started = System.nanoTime();
      long failed = 0;
      try {
        for (int t = 0; t < transactions; t++) {
          producer.beginTransaction();
          for (int i = 0; i < records; i++) {
            int at = ((t * records + i) * size) % (8 * 1024 * 1024);
            producer.send(new ProducerRecord<>(topic, Arrays.copyOfRange(block, at, at + size)));
          }
          producer.commitTransaction();
        }
      } catch (Exception e) {
        // Reported as the pass's outcome (the source launcher cannot print some exceptions itself).
        System.out.println("{\"error\":\"" + e.getClass().getSimpleName() + ": " + String.valueOf(e.getMessage()).replace("\"", "'") + "\"}");
        System.exit(0);
      }
      double seconds = (System.nanoTime() - started) / 1e9;
      System.out.println("{\"seconds\":" + seconds + ",\"failed\":" + failed + "}");
    }
  }
}
