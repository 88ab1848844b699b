// Kafka's own Java producer (KafkaProducer from the broker's kafka-clients jar) under the same rules
// as the other drivers: the same config (args[0], JSON), the same payloads (slices of one random
// 8 MiB block), keys "key-<i mod 10000>", the same warm-up, window and pacing, one JSON line out.
// Run in source-file mode: java -cp '.cache/kafka-<v>/libs/*' bench/drivers/JavaProducerDriver.java CONFIG
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

public class JavaProducerDriver {
  static final int POOL_BYTES = 8 * 1024 * 1024;
  static final int KEY_COUNT = 10_000;
  static final int WINDOW = 200_000;

  static String str(String json, String key) {
    Matcher m = Pattern.compile("\"" + key + "\"\\s*:\\s*(\"([^\"]*)\"|[-\\w.]+)").matcher(json);
    if (!m.find()) return null;
    return m.group(2) != null ? m.group(2) : m.group(1);
  }

  /** The multi-topic workload's topics (record i to topics[i % n]), or the one topic. */
  final String[] topics;
  final int size;
  final byte[][] values;
  final byte[][] keys;
  final KafkaProducer<byte[], byte[]> producer;
  final AtomicLong acked = new AtomicLong();
  final AtomicLong failed = new AtomicLong();

  JavaProducerDriver(String json, Properties props) {
    Matcher list = Pattern.compile("\"topics\"\\s*:\\s*\\[([^\\]]*)\\]").matcher(json);
    topics = list.find() ? list.group(1).replace("\"", "").split(",") : new String[] {str(json, "topic")};
    size = Integer.parseInt(str(json, "size"));
    byte[] block = new byte[POOL_BYTES + size];
    new Random().nextBytes(block);
    int count = Math.max(1, POOL_BYTES / size);
    values = new byte[count][];
    for (int i = 0; i < count; i++) values[i] = Arrays.copyOfRange(block, i * size, (i + 1) * size);
    if (Boolean.parseBoolean(str(json, "keyed"))) {
      keys = new byte[KEY_COUNT][];
      for (int i = 0; i < KEY_COUNT; i++) keys[i] = ("key-" + i).getBytes();
    } else {
      keys = null;
    }
    producer = new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer());
  }

  ProducerRecord<byte[], byte[]> record(int i) {
    return new ProducerRecord<>(topics[i % topics.length], keys == null ? null : keys[i % KEY_COUNT], values[i % values.length]);
  }

  final Callback counting = (metadata, error) -> {
    if (error != null) failed.incrementAndGet();
    acked.incrementAndGet();
  };

  void waitUntil(long count) throws InterruptedException {
    // The callbacks run on the producer's I/O thread; a short park keeps this thread off the CPU.
    while (acked.get() < count) Thread.sleep(0, 200_000);
  }

  double pipelined(int records) throws Exception {
    acked.set(0);
    long started = System.nanoTime();
    int sent = 0;
    while (sent < records) {
      long limit = Math.min(records, acked.get() + WINDOW);
      while (sent < limit) producer.send(record(sent++), counting);
      if (sent < records) waitUntil(sent - WINDOW + WINDOW / 4);
    }
    waitUntil(records);
    return (System.nanoTime() - started) / 1e9;
  }

  double[] paced(int records, int rate, double[] latencies) throws Exception {
    acked.set(0);
    long[] sentAt = new long[records];
    long started = System.nanoTime();
    int sent = 0;
    while (sent < records) {
      int due = (int) Math.min(records, (long) ((System.nanoTime() - started) / 1e9 * rate) + 1);
      while (sent < due) {
        final int id = sent++;
        sentAt[id] = System.nanoTime();
        producer.send(record(id), (metadata, error) -> {
          latencies[id] = (System.nanoTime() - sentAt[id]) / 1e6;
          if (error != null) failed.incrementAndGet();
          acked.incrementAndGet();
        });
      }
      Thread.sleep(1);
    }
    double offered = (System.nanoTime() - started) / 1e9;
    waitUntil(records);
    return new double[] {(System.nanoTime() - started) / 1e9, records / offered};
  }

  double awaitEach(int records, double[] latencies) {
    long started = System.nanoTime();
    for (int i = 0; i < records; i++) {
      long t0 = System.nanoTime();
      try {
        Future<?> f = producer.send(record(i));
        f.get();
      } catch (Exception e) {
        failed.incrementAndGet();
      }
      latencies[i] = (System.nanoTime() - t0) / 1e6;
    }
    return (System.nanoTime() - started) / 1e9;
  }

  static double pct(double[] sorted, double p) {
    int index = (int) Math.min(sorted.length - 1, Math.max(0, Math.ceil(p / 100 * sorted.length) - 1));
    return sorted[index];
  }

  static long peakRssKiB() throws Exception {
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith("VmHWM:")) return Long.parseLong(line.replaceAll("[^0-9]", ""));
    }
    return 0;
  }

  static double r3(double v) {
    return Math.round(v * 1000) / 1000.0;
  }

  public static void main(String[] args) throws Exception {
    String json = args[0];
    String mode = str(json, "mode");
    int records = Integer.parseInt(str(json, "records"));
    int warmup = Integer.parseInt(str(json, "warmup"));
    String acks = "-1".equals(str(json, "acks")) ? "all" : "1";
    String compression = str(json, "compression");
    Properties props = new Properties();
    props.put("bootstrap.servers", str(json, "bootstrap"));
    props.put("client.id", "bench-java");
    props.put("acks", acks);
    props.put("compression.type", compression);
    // The TLS workload: SASL_SSL with SCRAM-SHA-256, the run's CA as a PEM trust store.
    if (str(json, "caFile") != null) {
      props.put("security.protocol", "SASL_SSL");
      props.put("sasl.mechanism", str(json, "mechanism"));
      props.put("sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"" + str(json, "username") + "\" password=\"" + str(json, "password") + "\";");
      props.put("ssl.truststore.type", "PEM");
      props.put("ssl.truststore.location", str(json, "caFile"));
    }
    // Throughput settings as Kafka's docs advise (a linger like the other clients, 128 KiB batches).
    String settings;
    if (mode.equals("await-each")) {
      props.put("linger.ms", "0");
      settings = "\"linger.ms\":\"0\"";
    } else {
      props.put("linger.ms", "10");
      props.put("batch.size", "131072");
      props.put("max.in.flight.requests.per.connection", "5");
      settings = "\"linger.ms\":\"10\",\"batch.size\":\"131072\",\"max.in.flight.requests.per.connection\":\"5\",\"buffer.memory\":\"33554432 (default)\"";
    }
    JavaProducerDriver d = new JavaProducerDriver(json, props);
    if (warmup > 0) {
      if (mode.equals("await-each")) d.awaitEach(warmup, new double[warmup]);
      else d.pipelined(warmup);
    }
    d.failed.set(0);
    double seconds;
    double[] latencies = null;
    Double achieved = null;
    if (mode.equals("pipelined")) {
      seconds = d.pipelined(records);
    } else if (mode.equals("rate")) {
      latencies = new double[records];
      double[] r = d.paced(records, Integer.parseInt(str(json, "rate")), latencies);
      seconds = r[0];
      achieved = r[1];
    } else {
      latencies = new double[records];
      seconds = d.awaitEach(records, latencies);
    }
    String latency = "null";
    if (latencies != null) {
      Arrays.sort(latencies);
      latency = String.format("{\"p50\":%s,\"p99\":%s,\"max\":%s}", r3(pct(latencies, 50)), r3(pct(latencies, 99)), r3(latencies[latencies.length - 1]));
    }
    String version = clientVersion();
    String out = String.format(
        "{\"client\":\"java\",\"version\":\"%s (KafkaProducer, %s)\",\"mode\":\"%s\",\"records\":%d,\"failed\":%d,\"seconds\":%s,"
            + "\"recordsPerSec\":%s,\"mbPerSec\":%s,\"latencyMs\":%s,%s\"peakRssMB\":%s,\"settings\":{\"api\":\"KafkaProducer.send() with a callback\",%s,"
            + "\"acks\":\"%s\",\"compression.type\":\"%s\",\"enable.idempotence\":\"%s\",\"partitioner\":\"built-in (murmur2 for keys, sticky without)\",\"jvm\":\"%s\"}}",
        version, "Java " + System.getProperty("java.version"), mode, records, d.failed.get(), r3(seconds),
        Math.round(records / seconds * 10) / 10.0, r3(records * (double) d.size / seconds / 1048576), latency,
        achieved == null ? "" : "\"achievedRate\":" + Math.round(achieved * 10) / 10.0 + ",",
        Math.round(peakRssKiB() / 102.4) / 10.0, settings, acks, compression,
        acks.equals("all") ? "true (default with acks=all)" : "false (default with acks=1)",
        String.join(" ", ManagementFactory.getRuntimeMXBean().getInputArguments()).replace("\"", "'"));
    System.out.println(out);
    System.out.flush();
    // BENCH_JAVA_METRICS=1: the producer's own batching figures (since start, warm-up included) on
    // stderr, to compare how the clients batch; the harness reads only stdout.
    if ("1".equals(System.getenv("BENCH_JAVA_METRICS"))) {
      for (var e : d.producer.metrics().entrySet()) {
        var n = e.getKey();
        if (n.group().equals("producer-metrics") && n.name().matches("batch-size-avg|records-per-request-avg|request-rate|request-size-avg|record-queue-time-avg|request-latency-avg|compression-rate-avg|bufferpool-wait-ratio|record-size-avg|requests-in-flight")) {
          System.err.println("java metric " + n.name() + " " + e.getValue().metricValue());
        }
      }
    }
    d.producer.close(java.time.Duration.ofSeconds(5));
    System.exit(0);
  }

  /** kafka-clients' version; AppInfoParser moved to utils.internals in 4.4, so it is looked up by name. */
  static String clientVersion() {
    for (String name : new String[] {"org.apache.kafka.common.utils.internals.AppInfoParser", "org.apache.kafka.common.utils.AppInfoParser"}) {
      try {
        return (String) Class.forName(name).getMethod("getVersion").invoke(null);
      } catch (ReflectiveOperationException e) {
        // not in this release: try the other name
      }
    }
    return "unknown";
  }
}
