// The benchmark runs end to end with tiny N against the suite's broker: kafka-rx, kafkajs (a cheap
// npm install into bench/node_modules on first use) and Kafka's Java producer, one pipelined and
// one paced-latency workload. Only the shape and sanity of the figures are checked, never speed.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bootstrap, REPO_ROOT } from './support/broker.js';

interface Row {
  workload: string;
  client: string;
  passes: number;
  recordsPerSec: number;
  mbPerSec: number;
  p50Ms: number | null;
  p99Ms: number | null;
  peakRssMB: number;
  ratioToKafkaRx: number | null;
  errors: string[];
}

function runBench(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), 'bench/run.ts', ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, KAFKA_BROKERS: bootstrap() },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('close', (code) => resolve({ code, output }));
  });
}

describe('npm run bench (smoke, tiny N)', function () {
  this.timeout(240_000);
  let out: string;

  before(() => {
    out = mkdtempSync(join(tmpdir(), 'kafka-rx-bench-'));
  });
  after(() => rmSync(out, { recursive: true, force: true }));

  it('measures kafka-rx, kafkajs and the Java producer and writes JSON, Markdown and SVG with real figures', async () => {
    const { code, output } = await runBench([
      '--clients', 'kafka-rx,kafkajs,java', '--workloads', '100,100-topics,latency', '--records', '3000', '--warmup', '500',
      '--rounds', '1', '--rate', '5000', '--latency-seconds', '1', '--out', out,
    ]);
    expect(code, output).to.equal(0);
    const report = JSON.parse(readFileSync(join(out, 'latest.json'), 'utf8')) as {
      summary: Row[];
      excluded: Record<string, string>;
      versions: Record<string, string>;
      settings: Record<string, Record<string, Record<string, unknown>>>;
      machine: { cpus: number };
    };
    expect(report.excluded, output).to.deep.equal({});
    expect(report.machine.cpus).to.be.greaterThan(0);
    expect(Object.keys(report.versions).sort()).to.deep.equal(['java', 'kafka-rx', 'kafkajs']);
    expect(report.settings['kafka-rx'].pipelined).to.have.property('lingerMs');

    const clients = ['kafka-rx', 'kafkajs', 'java'];
    // The multi-topic workload's passes are checked against the end offsets of all 20 topics.
    for (const workload of ['100B keyless acks=1 none', '100B keyless acks=1 none 20 topics', 'latency@5000/s 100B keyless acks=1 none']) {
      for (const client of clients) {
        const row = report.summary.find((r) => r.workload === workload && r.client === client);
        expect(row, `${workload} / ${client}\n${output}`).to.not.equal(undefined);
        expect(row!.errors, `${workload} / ${client}`).to.deep.equal([]);
        expect(row!.passes).to.equal(1);
        expect(row!.recordsPerSec).to.be.a('number').and.greaterThan(0);
        expect(Number.isFinite(row!.recordsPerSec)).to.equal(true);
        expect(row!.mbPerSec).to.be.greaterThan(0);
        expect(row!.peakRssMB).to.be.greaterThan(10);
        if (client === 'kafka-rx') expect(row!.ratioToKafkaRx).to.equal(null);
        else expect(row!.ratioToKafkaRx).to.be.a('number').and.greaterThan(0);
        if (workload.startsWith('latency')) {
          expect(row!.p50Ms).to.be.a('number').and.greaterThan(0);
          expect(row!.p99Ms).to.be.a('number').and.at.least(row!.p50Ms!);
        } else {
          expect(row!.p50Ms).to.equal(null);
        }
      }
    }

    const svg = readFileSync(join(out, 'throughput.svg'), 'utf8');
    expect(svg).to.match(/^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    for (const client of clients) expect(svg).to.contain(`>${client}</text>`);
    expect((svg.match(/<rect [^>]*fill="#/g) ?? []).length).to.be.at.least(clients.length);
    const md = readFileSync(join(out, 'latest.md'), 'utf8');
    expect(md).to.contain('| workload | client | records/s |');
    expect(existsSync(join(out, 'latest.json'))).to.equal(true);
  });
});
