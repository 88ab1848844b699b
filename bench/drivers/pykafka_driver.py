"""pykafka 2.8 (pure Python, use_rdkafka=False), the system kafka-rx is modelled on.

Takes the same JSON config as the Node.js drivers (argv[1]) and prints one JSON result line.
The workload is built the same way: slices of one random 8 MiB block, keys "key-<i mod 10000>",
the same warm-up, the same window of outstanding records and the same pacing for the rate mode.
pykafka speaks Produce v0 (broker_version 0.9.0, its default), which Kafka 3.9 still accepts.
"""
import json
import os
import resource
import sys
import time
from queue import Empty

import pykafka
from pykafka import KafkaClient
from pykafka.common import CompressionType
from pykafka.partitioners import hashing_partitioner

POOL_BYTES = 8 * 1024 * 1024
KEY_COUNT = 10_000
WINDOW = 100_000  # max_queued_messages: the producer's own bound
# pykafka's default: Produce v0 with message format v0, which the broker converts on append.
BROKER_VERSION = "0.9.0"
THROUGHPUT = {"linger_ms": 10, "min_queued_messages": 70_000, "max_queued_messages": WINDOW, "max_request_size": 1_000_012}


class Workload:
    def __init__(self, config):
        size = config["size"]
        block = os.urandom(POOL_BYTES + size)
        count = max(1, POOL_BYTES // size)
        self.values = [block[i * size:(i + 1) * size] for i in range(count)]
        self.keys = [b"key-%d" % i for i in range(KEY_COUNT)] if config["keyed"] else None

    def value(self, i):
        return self.values[i % len(self.values)]

    def key(self, i):
        return None if self.keys is None else self.keys[i % KEY_COUNT]


def percentile(sorted_values, p):
    index = min(len(sorted_values) - 1, max(0, -(-p * len(sorted_values) // 100) - 1))
    return sorted_values[int(index)]


class Driver:
    def __init__(self, config):
        self.config = config
        self.workload = Workload(config)
        self.client = KafkaClient(hosts=config["bootstrap"], broker_version=BROKER_VERSION)
        self.topic = self.client.topics[config["topic"]]
        self.settings = {
            "api": "produce() + get_delivery_report()" if config["mode"] != "await-each" else "produce() with sync=True",
            "use_rdkafka": False,
            "broker_version": BROKER_VERSION + " (default: Produce v0, message format v0)",
            "required_acks": config["acks"],
            "compression": config["compression"],
            "partitioner": "hashing_partitioner" if config["keyed"] else "random_partitioner (round-robin, default)",
        }
        options = dict(
            required_acks=config["acks"],
            compression=CompressionType.LZ4 if config["compression"] == "lz4" else CompressionType.NONE,
            delivery_reports=True,
            pending_timeout_ms=120_000,
            use_rdkafka=False,
        )
        if config["keyed"]:
            options["partitioner"] = hashing_partitioner
        if config["mode"] == "await-each":
            options.update(sync=True, delivery_reports=False)
        else:
            options.update(THROUGHPUT)
            self.settings.update(THROUGHPUT)
        self.producer = self.topic.get_producer(**options)

    def drain(self, block, ack_times=None, sent_ids=None):
        """Takes every delivery report there is (waiting for the first if block); returns (count, failed)."""
        count = failed = 0
        while True:
            try:
                msg, exc = self.producer.get_delivery_report(block=block and count == 0, timeout=1)
            except Empty:
                return count, failed
            count += 1
            if exc is not None:
                failed += 1
            if ack_times is not None:
                ack_times[sent_ids.pop(id(msg))] = time.perf_counter()

    def pipelined(self, records):
        w = self.workload
        produce = self.producer.produce
        acked = failed = sent = 0
        started = time.perf_counter()
        while sent < records:
            limit = min(records, acked + WINDOW)
            while sent < limit:
                produce(w.value(sent), partition_key=w.key(sent))
                sent += 1
            while sent < records and sent - acked > WINDOW - WINDOW // 4:
                c, f = self.drain(True)
                acked += c
                failed += f
        while acked < records:
            c, f = self.drain(True)
            acked += c
            failed += f
        return time.perf_counter() - started, failed

    def paced(self, records, rate):
        w = self.workload
        produce = self.producer.produce
        sent_at = [0.0] * records
        ack_times = [0.0] * records
        sent_ids = {}
        acked = failed = sent = 0
        started = time.perf_counter()
        while sent < records:
            due = min(records, int((time.perf_counter() - started) * rate) + 1)
            while sent < due:
                sent_at[sent] = time.perf_counter()
                msg = produce(w.value(sent), partition_key=w.key(sent))
                sent_ids[id(msg)] = sent
                sent += 1
            c, f = self.drain(False, ack_times, sent_ids)
            acked += c
            failed += f
            time.sleep(0.001)
        offered_seconds = time.perf_counter() - started
        while acked < records:
            c, f = self.drain(True, ack_times, sent_ids)
            acked += c
            failed += f
        seconds = time.perf_counter() - started
        latencies = sorted((ack_times[i] - sent_at[i]) * 1000 for i in range(records))
        return seconds, failed, latencies, records / offered_seconds

    def await_each(self, records):
        w = self.workload
        latencies = []
        failed = 0
        started = time.perf_counter()
        for i in range(records):
            t0 = time.perf_counter()
            try:
                self.producer.produce(w.value(i), partition_key=w.key(i))
            except Exception:
                failed += 1
            latencies.append((time.perf_counter() - t0) * 1000)
        seconds = time.perf_counter() - started
        latencies.sort()
        return seconds, failed, latencies


def main():
    config = json.loads(sys.argv[1])
    driver = Driver(config)
    mode = config["mode"]
    if config["warmup"] > 0:
        if mode == "await-each":
            driver.await_each(config["warmup"])
        else:
            driver.pipelined(config["warmup"])
    latencies = None
    achieved = None
    if mode == "pipelined":
        seconds, failed = driver.pipelined(config["records"])
    elif mode == "rate":
        seconds, failed, latencies, achieved = driver.paced(config["records"], config.get("rate", 50_000))
    else:
        seconds, failed, latencies = driver.await_each(config["records"])
    records = config["records"]
    result = {
        "client": "pykafka",
        "version": pykafka.__version__,
        "mode": mode,
        "records": records,
        "failed": failed,
        "seconds": round(seconds, 4),
        "recordsPerSec": round(records / seconds, 1),
        "mbPerSec": round(records * config["size"] / seconds / 1048576, 3),
        "latencyMs": None if latencies is None else {
            "p50": round(percentile(latencies, 50), 3),
            "p99": round(percentile(latencies, 99), 3),
            "max": round(latencies[-1], 3),
        },
        "peakRssMB": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "settings": driver.settings,
    }
    if achieved is not None:
        result["achievedRate"] = round(achieved, 1)
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()
    driver.producer.stop()
    # pykafka's worker threads can outlive stop(); the result is out.
    os._exit(0)


if __name__ == "__main__":
    main()
