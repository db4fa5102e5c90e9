import { type GuardRequest, type GuardResponse, MAX_PAYLOAD_BYTES } from '../client/contract';
import type { LocalLambda } from '../local/lambda-runtime';
import { SesEmulator } from '../local/ses-emulator';
import { CountingProxy } from './counting-proxy';
import { prepareGuardData } from './guard-bench';
import { type BenchDynamo, median, percentile, round, startBenchFunction } from './harness';

/** One load scenario: `concurrency` checks at once, `rounds` times, each of `recipients` recipients. */
export interface GuardLoadScenario {
  readonly concurrency: number;
  readonly recipients: number;
  readonly rounds: number;
}

/** The figures of one scenario. */
export interface GuardLoadRow {
  readonly concurrency: number;
  readonly recipients: number;
  /** Checks measured (after a warm-up round that starts one execution environment per concurrent check). */
  readonly checks: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly dynamoRequestsPerCheck: number;
  /** SES calls per measured check (warm environments: their caches answer). */
  readonly sesCallsPerCheck: number;
  /** SES calls of the warm-up round, per check: what cold environments cost SES, paced at SES's 1 request/s. */
  readonly warmupSesCallsPerCheck: number;
  /** Invocations that ended in a function error (e.g. `Sandbox.Timedout`), warm-up included. */
  readonly functionErrors: number;
  /** Checks answered GUARD_DEPENDENCY_UNAVAILABLE, warm-up included. */
  readonly dependencyUnavailable: number;
  readonly maxResponseBytes: number;
}

/**
 * The guard under concurrent load, against a large canonical table: the synthesized bundle in the local Lambda
 * runtime (one execution environment per concurrent invocation, as Lambda does), SES emulated at its own pace of
 * 1 request/second per operation and region, DynamoDB requests counted by a proxy.
 */
export async function runGuardLoad(
  dynamo: BenchDynamo,
  tableSize: number,
  scenarios: readonly GuardLoadScenario[],
  log: (line: string) => void,
): Promise<GuardLoadRow[]> {
  const tables = await dynamo.tables('load');
  const emu = await SesEmulator.start({ requestsPerSecond: 0, seed: 11 });
  const proxy = await CountingProxy.start(dynamo.local.endpoint);
  const functions: LocalLambda[] = [];
  try {
    const addresses = await prepareGuardData(tables, emu, tableSize, log);
    emu.setRequestsPerSecond(1);
    const rows: GuardLoadRow[] = [];
    for (const scenario of scenarios) {
      // A fresh function per scenario: its environments start cold in the warm-up round, as after a deployment.
      const guard = await startBenchFunction(dynamo, 'GuardGuardFunction', {
        tables,
        dynamoEndpoint: proxy.endpoint,
        sesEndpoint: emu.endpoint,
        region: 'us-west-2',
      });
      functions.push(guard);
      // Each check's own recipients: one in ten suppressed, spread over the whole table.
      const request = (check: number): GuardRequest => ({
        from: 'News <news@example.net>',
        region: 'us-west-2',
        caller: `load-${check}`,
        recipients: Array.from({ length: scenario.recipients }, (_, i) =>
          i % 10 === 0 ? addresses[(check * 7919 + i * 104_729) % addresses.length]! : `fresh.${check}.${i}@example.com`,
        ),
      });
      let unavailable = 0;
      let maxResponseBytes = 0;
      const failures: string[] = [];
      const round_ = async (first: number) => {
        const outcomes = await Promise.all(
          Array.from({ length: scenario.concurrency }, (_, c) => guard.invoke<GuardResponse>(request(first + c))),
        );
        const times: number[] = [];
        for (const outcome of outcomes) {
          if (outcome.error || !outcome.result) {
            // A function error (a timeout, on a machine too loaded for the scenario) is counted, not fatal.
            failures.push(outcome.error?.name ?? 'no result');
            continue;
          }
          if (outcome.result.problems.some((p) => p.code === 'GUARD_DEPENDENCY_UNAVAILABLE')) unavailable++;
          maxResponseBytes = Math.max(maxResponseBytes, Buffer.byteLength(outcome.payload));
          times.push(outcome.handlerMs ?? outcome.durationMs);
        }
        return times;
      };

      log(`  guard load: ${scenario.concurrency} concurrent checks of ${scenario.recipients} recipients, warm-up round...`);
      emu.resetStats();
      await round_(0);
      const warmupSes = emu.stats().totals.requests;
      emu.resetStats();
      proxy.reset();
      const times: number[] = [];
      for (let r = 1; r <= scenario.rounds; r++) times.push(...(await round_(r * scenario.concurrency)));
      const checks = scenario.rounds * scenario.concurrency;
      rows.push({
        concurrency: scenario.concurrency,
        recipients: scenario.recipients,
        checks,
        p50Ms: times.length ? round(median(times), 1) : Number.NaN,
        p95Ms: times.length ? round(percentile(times, 95), 1) : Number.NaN,
        functionErrors: failures.length,
        dynamoRequestsPerCheck: round(proxy.total() / checks, 1),
        sesCallsPerCheck: round(emu.stats().totals.requests / checks, 2),
        warmupSesCallsPerCheck: round(warmupSes / scenario.concurrency, 2),
        dependencyUnavailable: unavailable,
        maxResponseBytes,
      });
      await guard.stop();
    }
    return rows;
  } finally {
    for (const fn of functions) await fn.stop();
    await proxy.stop();
    await emu.stop();
  }
}

/** Target checks of the load scenarios: no self-inflicted unavailability, SES calls near zero warm, answers under 6 MB. */
export function guardLoadChecks(rows: readonly GuardLoadRow[]): Array<{ target: string; measured: string; met: boolean }> {
  return rows.flatMap((r) => [
    {
      target: `guard, ${r.concurrency} concurrent × ${r.recipients} recipients: no GUARD_DEPENDENCY_UNAVAILABLE`,
      measured: `${r.dependencyUnavailable} of ${r.checks + r.concurrency}`,
      met: r.dependencyUnavailable === 0,
    },
    {
      target: `guard, ${r.concurrency} concurrent × ${r.recipients} recipients: no function error`,
      measured: `${r.functionErrors} of ${r.checks + r.concurrency}`,
      met: r.functionErrors === 0,
    },
    {
      target: `guard, ${r.concurrency} concurrent × ${r.recipients} recipients: ≤ 0.1 SES calls per warm check`,
      measured: String(r.sesCallsPerCheck),
      met: r.sesCallsPerCheck <= 0.1,
    },
    {
      target: `guard, ${r.concurrency} concurrent × ${r.recipients} recipients: largest answer under 6 MB`,
      measured: `${r.maxResponseBytes} bytes`,
      met: r.maxResponseBytes < MAX_PAYLOAD_BYTES,
    },
  ]);
}
