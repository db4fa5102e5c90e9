import { MAX_PAYLOAD_BYTES } from '../client/contract';
import { SesEmulator } from '../local/ses-emulator';
import { type BenchDynamo, median, round, startBenchFunction } from './harness';

/** The guard's handler time on one hostile request it must refuse. */
export interface HostileRow {
  readonly request: string;
  readonly requestBytes: number;
  readonly runs: number;
  /** The handler's own time (median, max): what the guard spends on the request. */
  readonly handlerMedianMs: number;
  readonly handlerMaxMs: number;
  /** The whole invocation (median), including the runtime's JSON parsing of the 6 MB payload before the handler. */
  readonly invocationMedianMs: number;
  readonly responseBytes: number;
  /** The problem code of the answer: INVALID_REQUEST for every row. */
  readonly code: string;
}

// Just under Lambda's 6 MB request quota, leaving room for the rest of the JSON.
const BIG = MAX_PAYLOAD_BYTES - 4096;

/**
 * The largest requests Lambda accepts, built to be as costly as possible for the guard to refuse: oversized fields
 * without '@' (the shape that made the old redaction quadratic), control characters, a huge unknown key, deep
 * nesting, too many recipients. Each is sent to the synthesized guard bundle in the local runtime, which enforces
 * the 6 MB request quota and reports the handler's own time apart from the runtime's parsing of the payload.
 */
export function hostileRequests(): Array<{ name: string; payload: string }> {
  const json = (event: unknown) => JSON.stringify(event);
  const depth = Math.floor((BIG - 200) / 2);
  return [
    { name: '6 MB from, no @', payload: json({ from: 'x'.repeat(BIG), recipients: ['a@example.org'] }) },
    {
      name: '6 MB from, CRLF display name',
      payload: json({
        from: `${'Evil\r\nBcc: v@example.org '.repeat(Math.floor(BIG / 30))}<n@example.net>`,
        recipients: ['a@example.org'],
      }),
    },
    { name: '6 MB region', payload: json({ from: 'n@example.net', region: 'r'.repeat(BIG), recipients: ['a@example.org'] }) },
    { name: '6 MB unknown key', payload: json({ from: 'n@example.net', recipients: ['a@example.org'], ['k'.repeat(BIG)]: 1 }) },
    { name: '6 MB caller', payload: json({ from: 'n@example.net', recipients: ['a@example.org'], caller: 'c'.repeat(BIG) }) },
    { name: '1.5 M recipients (too many)', payload: json({ from: 'n@example.net', recipients: new Array(1_500_000).fill('a') }) },
    { name: '3 M non-string recipients', payload: json({ from: 'n@example.net', recipients: new Array(3_000_000).fill(0) }) },
    {
      name: `a field nested ${depth.toLocaleString('en-US')} deep`,
      payload: `{"from":"n@example.net","recipients":["a@example.org"],"configurationSetName":${'['.repeat(depth)}${']'.repeat(depth)}}`,
    },
  ];
}

/** Sends each hostile request `runs` times to a warm guard and reports its handler time. */
export async function runHostileBench(dynamo: BenchDynamo, runs: number): Promise<HostileRow[]> {
  const tables = await dynamo.tables('hostile');
  const emu = await SesEmulator.start({ requestsPerSecond: 0 });
  const fn = await startBenchFunction(dynamo, 'GuardGuardFunction', {
    tables,
    dynamoEndpoint: dynamo.local.endpoint,
    sesEndpoint: emu.endpoint,
    region: 'us-east-1',
  });
  const rows: HostileRow[] = [];
  try {
    await fn.invoke({ from: 'n@example.net', recipients: ['a@example.org'] }); // warm the container
    for (const { name, payload } of hostileRequests()) {
      const requestBytes = Buffer.byteLength(payload);
      if (requestBytes > MAX_PAYLOAD_BYTES) throw new Error(`hostile request "${name}" is ${requestBytes} bytes, over the quota`);
      const times: number[] = [];
      const totals: number[] = [];
      let responseBytes = 0;
      let code = '';
      for (let i = 0; i < runs; i++) {
        const out = await fn.invokeJson<{ problems: Array<{ code: string }> }>(payload);
        if (out.error) throw new Error(`hostile request "${name}" failed the function: ${out.error.name}: ${out.error.message}`);
        if (out.handlerMs === undefined) throw new Error(`hostile request "${name}": the runtime reported no handler time`);
        times.push(out.handlerMs);
        totals.push(out.durationMs);
        responseBytes = Buffer.byteLength(out.payload);
        code = out.result?.problems[0]?.code ?? '(none)';
      }
      rows.push({
        request: name,
        requestBytes,
        runs,
        handlerMedianMs: round(median(times), 1),
        handlerMaxMs: round(Math.max(...times), 1),
        invocationMedianMs: round(median(totals), 1),
        responseBytes,
        code,
      });
    }
    return rows;
  } finally {
    await fn.stop();
    await emu.stop();
  }
}

/** The target of the hardening issue: the worst request of ≤ 6 MB is refused in ≤ 100 ms of handler time. */
export const HOSTILE_REFUSAL_TARGET_MS = 100;

/** The target check over every row; a timing, so judged only in a full run (`met: null` in quick mode). */
export function hostileCheck(rows: readonly HostileRow[], quick: boolean): { target: string; measured: string; met: boolean | null } {
  const worst = rows.reduce((a, b) => (b.handlerMedianMs > a.handlerMedianMs ? b : a));
  const allRefused = rows.every((r) => r.code === 'INVALID_REQUEST');
  return {
    target: `hostile request ≤ 6 MB refused in ≤ ${HOSTILE_REFUSAL_TARGET_MS} ms of handler time`,
    measured: `worst median ${worst.handlerMedianMs} ms (${worst.request})${allRefused ? '' : '; NOT all refused'}`,
    met: !allRefused ? false : quick ? null : worst.handlerMedianMs <= HOSTILE_REFUSAL_TARGET_MS,
  };
}
