/*
 * librdkafka's mock cluster as a standalone process for tests: a real set of Kafka-protocol
 * listeners on loopback whose faults are driven through line commands on stdin.
 *
 *   mockcluster [BROKERS] [--topic NAME:PARTITIONS:REPLICATION]...
 *
 * Prints "BOOTSTRAP host:port,..." once listening, then answers each stdin line with one
 * "OK ..." or "ERR message" line. EOF or "quit" destroys the cluster and exits 0.
 * Commands (error codes as numbers or names, librdkafka's or Kafka's spelling):
 *   topic NAME PARTITIONS REPLICATION
 *   errors APIKEY CODE...             next requests of APIKEY, any broker, fail in order
 *   broker-errors BROKER APIKEY CODE[:RTT_MS]...
 *   clear-errors APIKEY
 *   topic-error NAME CODE             error for the topic in Metadata responses
 *   leader TOPIC PARTITION BROKER     BROKER -1: leaderless
 *   down BROKER | up BROKER           -1: all brokers
 *   rtt BROKER MS
 *   apiversion APIKEY MIN MAX         narrow what ApiVersions advertises (-1 -1 disables)
 *   quit
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#define MAX_ARGS 256

static rd_kafka_mock_cluster_t *mc;

/* Kafka's current names where librdkafka 2.0 still uses older ones. */
static const struct { const char *name; int code; } aliases[] = {
    {"NOT_LEADER_OR_FOLLOWER", 6},
    {"MESSAGE_TOO_LARGE", 10},
    {"TRANSPORT", RD_KAFKA_RESP_ERR__TRANSPORT},
    {"NONE", 0},
};

static int parse_int(const char *s, long *out) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || end == s || *end) return -1;
  *out = v;
  return 0;
}

static int parse_code(const char *s, rd_kafka_resp_err_t *out) {
  long v;
  if (parse_int(s, &v) == 0) { *out = (rd_kafka_resp_err_t)v; return 0; }
  for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
    if (!strcasecmp(s, aliases[i].name)) { *out = aliases[i].code; return 0; }
  const struct rd_kafka_err_desc *descs;
  size_t n;
  rd_kafka_get_err_descs(&descs, &n);
  for (size_t i = 0; i < n; i++) {
    const char *name = descs[i].name;
    if (!name) continue;
    if (!strcasecmp(s, name) || (name[0] == '_' && !strcasecmp(s, name + 1) && descs[i].code < 0)) {
      *out = descs[i].code;
      return 0;
    }
  }
  return -1;
}

static void reply(const char *status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void reply(const char *status, const char *fmt, ...) {
  va_list ap;
  fputs(status, stdout);
  if (fmt && *fmt) {
    fputc(' ', stdout);
    va_start(ap, fmt);
    vfprintf(stdout, fmt, ap);
    va_end(ap);
  }
  fputc('\n', stdout);
  fflush(stdout);
}

static void result(rd_kafka_resp_err_t err, const char *what) {
  if (err) reply("ERR", "%s: %s", what, rd_kafka_err2str(err));
  else reply("OK", "%s", what);
}

#define NEED(n, usage) do { if (argc != (n)) { reply("ERR", "usage: %s", usage); return 0; } } while (0)
#define INT(var, s) long var; if (parse_int((s), &var)) { reply("ERR", "not an integer: %s", (s)); return 0; }

/* Returns 1 when the program should end. */
static int command(int argc, char **argv) {
  const char *cmd = argv[0];
  if (!strcmp(cmd, "quit")) return 1;
  if (!strcmp(cmd, "topic")) {
    NEED(4, "topic NAME PARTITIONS REPLICATION");
    INT(p, argv[2]); INT(r, argv[3]);
    result(rd_kafka_mock_topic_create(mc, argv[1], (int)p, (int)r), "topic");
  } else if (!strcmp(cmd, "errors")) {
    if (argc < 3) { reply("ERR", "usage: errors APIKEY CODE..."); return 0; }
    INT(key, argv[1]);
    rd_kafka_resp_err_t codes[MAX_ARGS];
    int n = argc - 2;
    for (int i = 0; i < n; i++)
      if (parse_code(argv[i + 2], &codes[i])) { reply("ERR", "unknown error code: %s", argv[i + 2]); return 0; }
    rd_kafka_mock_push_request_errors_array(mc, (int16_t)key, (size_t)n, codes);
    reply("OK", "errors %d", n);
  } else if (!strcmp(cmd, "broker-errors")) {
    if (argc < 4) { reply("ERR", "usage: broker-errors BROKER APIKEY CODE[:RTT]..."); return 0; }
    INT(broker, argv[1]); INT(key, argv[2]);
    int n = argc - 3;
    rd_kafka_resp_err_t codes[MAX_ARGS];
    int rtts[MAX_ARGS];
    for (int i = 0; i < n; i++) {
      char *spec = argv[i + 3], *colon = strchr(spec, ':');
      long rtt = 0;
      if (colon) { *colon = 0; if (parse_int(colon + 1, &rtt) || rtt < 0) { reply("ERR", "bad rtt: %s", colon + 1); return 0; } }
      if (parse_code(spec, &codes[i])) { reply("ERR", "unknown error code: %s", spec); return 0; }
      rtts[i] = (int)rtt;
    }
    /* The call is variadic only; one entry per call appends in order to the broker's stack. */
    for (int i = 0; i < n; i++) {
      rd_kafka_resp_err_t err = rd_kafka_mock_broker_push_request_error_rtts(mc, (int32_t)broker, (int16_t)key, 1, codes[i], rtts[i]);
      if (err) { result(err, "broker-errors"); return 0; }
    }
    reply("OK", "broker-errors %d", n);
  } else if (!strcmp(cmd, "clear-errors")) {
    NEED(2, "clear-errors APIKEY");
    INT(key, argv[1]);
    rd_kafka_mock_clear_request_errors(mc, (int16_t)key);
    reply("OK", "clear-errors");
  } else if (!strcmp(cmd, "topic-error")) {
    NEED(3, "topic-error NAME CODE");
    rd_kafka_resp_err_t code;
    if (parse_code(argv[2], &code)) { reply("ERR", "unknown error code: %s", argv[2]); return 0; }
    rd_kafka_mock_topic_set_error(mc, argv[1], code);
    reply("OK", "topic-error");
  } else if (!strcmp(cmd, "leader")) {
    NEED(4, "leader TOPIC PARTITION BROKER");
    INT(p, argv[2]); INT(b, argv[3]);
    result(rd_kafka_mock_partition_set_leader(mc, argv[1], (int32_t)p, (int32_t)b), "leader");
  } else if (!strcmp(cmd, "down") || !strcmp(cmd, "up")) {
    NEED(2, "down|up BROKER");
    INT(b, argv[1]);
    result(cmd[0] == 'd' ? rd_kafka_mock_broker_set_down(mc, (int32_t)b) : rd_kafka_mock_broker_set_up(mc, (int32_t)b), cmd);
  } else if (!strcmp(cmd, "rtt")) {
    NEED(3, "rtt BROKER MS");
    INT(b, argv[1]); INT(ms, argv[2]);
    result(rd_kafka_mock_broker_set_rtt(mc, (int32_t)b, (int)ms), "rtt");
  } else if (!strcmp(cmd, "apiversion")) {
    NEED(4, "apiversion APIKEY MIN MAX");
    INT(key, argv[1]); INT(lo, argv[2]); INT(hi, argv[3]);
    result(rd_kafka_mock_set_apiversion(mc, (int16_t)key, (int16_t)lo, (int16_t)hi), "apiversion");
  } else {
    reply("ERR", "unknown command: %s", cmd);
  }
  return 0;
}

static int create_topic_arg(const char *spec) {
  char name[512];
  int p = 1, r = 1;
  const char *c1 = strchr(spec, ':');
  size_t len = c1 ? (size_t)(c1 - spec) : strlen(spec);
  if (len == 0 || len >= sizeof name) return -1;
  memcpy(name, spec, len);
  name[len] = 0;
  if (c1 && sscanf(c1 + 1, "%d:%d", &p, &r) < 1) return -1;
  return rd_kafka_mock_topic_create(mc, name, p, r) ? -1 : 0;
}

int main(int argc, char **argv) {
  long brokers = 3;
  int first_topic = argc;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--topic")) { if (first_topic == argc) first_topic = i; i++; continue; }
    if (parse_int(argv[i], &brokers) || brokers < 1 || brokers > 64) {
      fprintf(stderr, "usage: %s [BROKERS] [--topic NAME:PARTITIONS:REPLICATION]...\n", argv[0]);
      return 2;
    }
  }

  char errstr[512];
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  /* The handle only hosts the mock cluster; it never connects anywhere itself. */
  rd_kafka_conf_set(conf, "client.id", "mockcluster", errstr, sizeof errstr);
  rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof errstr);
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  if (!rk) { fprintf(stderr, "rd_kafka_new: %s\n", errstr); return 1; }
  mc = rd_kafka_mock_cluster_new(rk, (int)brokers);
  if (!mc) { fprintf(stderr, "rd_kafka_mock_cluster_new failed\n"); return 1; }

  for (int i = first_topic; i < argc; i++) {
    if (strcmp(argv[i], "--topic")) continue;
    if (i + 1 >= argc || create_topic_arg(argv[i + 1])) {
      fprintf(stderr, "bad --topic %s (want NAME:PARTITIONS:REPLICATION)\n", i + 1 < argc ? argv[i + 1] : "");
      return 2;
    }
    i++;
  }

  printf("BOOTSTRAP %s\n", rd_kafka_mock_cluster_bootstraps(mc));
  fflush(stdout);

  char line[8192];
  while (fgets(line, sizeof line, stdin)) {
    char *args[MAX_ARGS + 4];
    int n = 0;
    for (char *tok = strtok(line, " \t\r\n"); tok && n < MAX_ARGS + 4; tok = strtok(NULL, " \t\r\n")) args[n++] = tok;
    if (n == 0) continue;
    if (n > MAX_ARGS) { reply("ERR", "too many arguments"); continue; }
    if (command(n, args)) { reply("OK", "quit"); break; }
  }

  rd_kafka_mock_cluster_destroy(mc);
  rd_kafka_destroy(rk);
  return 0;
}
