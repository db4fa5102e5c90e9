import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { startBenchDynamo } from './harness';
import { runSyncBench, SyncScenario } from './sync-bench';

const REGIONS = ['us-east-1', 'us-west-2', 'eu-west-1'];

/** `npm run bench [-- --quick] [--out file]`: prints a table and writes the figures to JSON. */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      out: { type: 'string' },
      rate: { type: 'string' },
    },
  });
  const quick = values.quick ?? false;
  const rate = values.rate === undefined ? 5 : Number(values.rate);
  if (!(rate > 0 && rate <= 100)) throw new Error(`--rate must be a number of requests per second between 0 and 100, got ${JSON.stringify(values.rate)}`);
  const out = values.out ?? join(__dirname, 'results', quick ? 'quick.json' : 'latest.json');
  const machine = { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version };
  const log = (line: string) => process.stderr.write(`${line}\n`);

  log(`ses-suppression-guard benchmarks (${quick ? 'quick' : 'full'}) on ${machine.cpus} CPU ${machine.cpuModel}, ${machine.memoryGiB} GiB, Node ${machine.node}`);
  const dynamo = await startBenchDynamo();
  try {
    const syncOptions = { regions: REGIONS, entriesPerRegion: quick ? 2000 : 50_000, requestsPerSecond: rate, changedFraction: 0.01 };
    log(`Sync: ${REGIONS.length} regions × ${syncOptions.entriesPerRegion} entries, emulated SES rate ${rate} requests/s per region (SES allows 1; 1,000 entries a page)`);
    const sync = await runSyncBench(dynamo, syncOptions, log);
    printSync(sync, syncOptions.requestsPerSecond);

    const results = { date: new Date().toISOString(), mode: quick ? 'quick' : 'full', machine, sync: { options: syncOptions, scenarios: sync } };
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
    log(`\nFigures written to ${out}`);
  } finally {
    await dynamo.stop();
  }
}

function printSync(scenarios: SyncScenario[], rate: number): void {
  console.log(`\n1–3. Sync (allowed: ${rate} SES requests/s per region = ${rate * 1000} entries/s per region)`);
  const header = ['scenario', 'side', 'SES req', 'throttled', 'req/s/region', 'achieved÷allowed', 'entries/s', 'DDB writes', 'items written', 'seconds'];
  const rows: string[][] = [];
  for (const s of scenarios) {
    for (const [name, side] of [['ours', s.ours], ['baseline', s.baseline]] as const) {
      rows.push([
        name === 'ours' ? s.name : '',
        name,
        String(side.sesRequests),
        String(side.throttled),
        String(side.achievedRps),
        side.ratioToAllowed === null ? 'n/a' : side.ratioToAllowed.toFixed(2),
        String(side.entriesPerSecond),
        String(side.writeRequests),
        String(side.itemsWritten),
        (side.durationMs / 1000).toFixed(1),
      ]);
    }
    rows.push([
      '',
      'ratio',
      '',
      '',
      '',
      '',
      '',
      s.ours.writeRequests === 0 ? `baseline ${s.baseline.writeRequests} vs 0` : `${(s.baseline.writeRequests / s.ours.writeRequests).toFixed(1)}× fewer`,
      s.changedEntries === undefined ? '' : `changed: ${s.changedEntries}`,
      '',
    ]);
  }
  printTable(header, rows);
}

/** Prints an aligned text table. */
export function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) console.log(line(row));
}

main().catch((error: Error) => {
  console.error(`bench failed: ${error.stack ?? error.message}`);
  process.exit(1);
});
