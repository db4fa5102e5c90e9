/**
 * Runnable SES v2 emulator:
 *   npx tsx local/ses-emulator/main.ts [--port 4579] [--host 127.0.0.1] [--seed 7] [--rps 1] [--token-ttl-ms 300000] [--state file.json]
 *     [--s3-endpoint http://127.0.0.1:4568] [--import-rps 2000] [--event-delay-ms 50] [--account-id 123456789012]
 *     [--smtp-regions us-east-1,us-west-2] [--smtp-ca-file ca.pem]
 * Prints `SES emulator listening on <endpoint>` once ready (then one `SMTP <region> ...` line per SMTP region); stops on
 * SIGINT/SIGTERM.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { SesEmulator } from './emulator';

function numberArg(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = value === 'Infinity' ? Infinity : Number(value);
  if (Number.isNaN(n)) throw new Error(`--${name} must be a number (got "${value}")`);
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '4579' },
      host: { type: 'string', default: '127.0.0.1' },
      seed: { type: 'string' },
      rps: { type: 'string' },
      'token-ttl-ms': { type: 'string' },
      state: { type: 'string' },
      's3-endpoint': { type: 'string' },
      'import-rps': { type: 'string' },
      'event-delay-ms': { type: 'string' },
      'account-id': { type: 'string' },
      'smtp-regions': { type: 'string' },
      'smtp-ca-file': { type: 'string' },
    },
    strict: true,
  });
  const emu = await SesEmulator.start({
    port: numberArg(values.port, 'port'),
    host: values.host,
    seed: numberArg(values.seed, 'seed'),
    requestsPerSecond: numberArg(values.rps, 'rps'),
    nextTokenTtlMs: numberArg(values['token-ttl-ms'], 'token-ttl-ms'),
    s3Endpoint: values['s3-endpoint'],
    importRowsPerSecond: numberArg(values['import-rps'], 'import-rps'),
    eventDelayMs: numberArg(values['event-delay-ms'], 'event-delay-ms'),
    accountId: values['account-id'],
    smtpRegions: values['smtp-regions']
      ?.split(',')
      .map((r) => r.trim())
      .filter((r) => r.length > 0),
  });
  if (values.state !== undefined) {
    try {
      emu.loadState(JSON.parse(readFileSync(values.state, 'utf8')) as unknown);
    } catch (err) {
      await emu.stop();
      throw new Error(`cannot load state file ${values.state}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  process.stdout.write(`SES emulator listening on ${emu.endpoint}\n`);
  if (values['smtp-ca-file'] !== undefined && emu.smtpEndpoints().length > 0) writeFileSync(values['smtp-ca-file'], emu.smtpCaPem());
  for (const e of emu.smtpEndpoints()) {
    process.stdout.write(
      `SMTP ${e.region}: STARTTLS ${e.host}:${e.starttlsPort}, TLS ${e.host}:${e.tlsPort} (servername ${e.serverName})\n`,
    );
  }
  const shutdown = (): void => {
    emu.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((err: unknown) => {
  process.stderr.write(`ses-emulator: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
