import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Context } from 'aws-lambda';
import { readEnvironment } from '../domain/settings';
import { probeSmtp } from '../domain/smtp-probe';
import { type CanaryReport, mapBounded, runCanary } from './canary';
import {
  parseSmtpEndpoints,
  SMTP_CANARY_ENVIRONMENT,
  SMTP_CANARY_METRICS,
  SMTP_CANARY_SERVICE_NAME,
  SMTP_ENDPOINTS_VARIABLE,
  type SmtpCanaryTarget,
} from './settings';

const settings = readEnvironment(SMTP_CANARY_ENVIRONMENT);
const endpoints = parseSmtpEndpoints(process.env[SMTP_ENDPOINTS_VARIABLE]);
const logger = new Logger({ serviceName: SMTP_CANARY_SERVICE_NAME });
const metrics = new Metrics({ namespace: SMTP_CANARY_METRICS.namespace, serviceName: SMTP_CANARY_METRICS.serviceName });

/** One Secrets Manager client per region (a secret is read in the region of its ARN), kept for warm invocations. */
const clients = new Map<string, SecretsManagerClient>();
function secretsClient(secretArn: string): SecretsManagerClient {
  const region = secretArn.split(':')[3] ?? '';
  let client = clients.get(region);
  if (!client) {
    client = new SecretsManagerClient({ region, maxAttempts: 3 });
    clients.set(region, client);
  }
  return client;
}

async function getSecretString(secretArn: string): Promise<string | undefined> {
  const out = await secretsClient(secretArn).send(new GetSecretValueCommand({ SecretId: secretArn }));
  return out.SecretString;
}

/** What the function returns: each canary's report and the counts. */
export interface SmtpCanarySummary {
  readonly passed: number;
  readonly failed: number;
  readonly unchecked: number;
  readonly canaries: readonly CanaryReport[];
}

/** Publishes the canary's metrics: `SmtpCanaryAuth` when AUTH answered, `SmtpCanaryUnchecked` always. */
function publish(target: SmtpCanaryTarget, report: CanaryReport): void {
  const dimensions = {
    [SMTP_CANARY_METRICS.canaryDimension]: target.name,
    [SMTP_CANARY_METRICS.regionDimension]: target.region,
  };
  if (report.outcome !== 'unchecked') {
    const auth = metrics.singleMetric();
    auth.addDimensions(dimensions);
    auth.addMetric(SMTP_CANARY_METRICS.names.auth, MetricUnit.Count, report.outcome === 'pass' ? 1 : 0);
  }
  const unchecked = metrics.singleMetric();
  unchecked.addDimensions(dimensions);
  unchecked.addMetric(SMTP_CANARY_METRICS.names.unchecked, MetricUnit.Count, report.outcome === 'unchecked' ? 1 : 0);
}

/** Logs a canary's report: no password, no secret, no address (the user name masked). */
function log(report: CanaryReport): void {
  const { evidence, ...fields } = report;
  if (report.outcome === 'pass') logger.info('SMTP credentials accepted', { ...fields });
  else if (report.outcome === 'fail') logger.error('SMTP credentials refused', { ...fields, evidence });
  else logger.warn('SMTP credentials not checked', { ...fields, evidence });
}

/**
 * Scheduled entry point: probes every configured canary (a few at a time) up to AUTH against its region's SES SMTP
 * endpoint, publishes one verdict per canary and returns the summary. It never sends mail, and fails only when it
 * cannot run at all (a canary's failure is its outcome, not the function's).
 */
export const handler = async (_event: unknown, context: Context): Promise<SmtpCanarySummary> => {
  logger.addContext(context);
  try {
    const reports = await mapBounded(settings.canaries, settings.concurrency, async (target) => {
      const report = await runCanary(target, {
        getSecretString,
        probe: probeSmtp,
        port: settings.port,
        timeoutMs: settings.probeTimeoutMs,
        ...(endpoints ? { endpoints } : {}),
      });
      publish(target, report);
      log(report);
      return report;
    });
    const count = (outcome: CanaryReport['outcome']) => reports.filter((r) => r.outcome === outcome).length;
    return { passed: count('pass'), failed: count('fail'), unchecked: count('unchecked'), canaries: reports };
  } finally {
    metrics.publishStoredMetrics();
  }
};
