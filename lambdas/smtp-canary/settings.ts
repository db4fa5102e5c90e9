import { METRICS_NAMESPACE } from '../domain/names';
import { type EnvVariable, positiveNumberVariable, REGION_PATTERN } from '../domain/settings';

export { parseSmtpEndpoints, SMTP_ENDPOINTS_VARIABLE } from '../domain/smtp';

/**
 * The SMTP canary function's runtime contract. It reads these environment variables, all required (the construct
 * writes every one; a missing or invalid one fails the cold start with the variable's name):
 *
 * | variable | value |
 * | --- | --- |
 * | `SMTP_CANARIES` | JSON list of `{"name", "region", "secretArn"}`: the credentials to test and the SES region they are for |
 * | `SMTP_CANARY_PORT` | the SES SMTP port probed (587, STARTTLS) |
 * | `SMTP_CANARY_CONCURRENCY` | how many canaries are probed at once |
 * | `SMTP_PROBE_TIMEOUT_MS` | the time each network step of a probe may take |
 *
 * Only the local runtime sets `SSG_SMTP_ENDPOINTS` (see `lambdas/domain/smtp.ts`) (there is no DNS for the SES SMTP host names locally),
 * and `NODE_EXTRA_CA_CERTS` for the local SMTP interface's CA; the CDK never does. The handler reaches Secrets
 * Manager through the SDK alone (`AWS_ENDPOINT_URL_SECRETS_MANAGER` locally).
 *
 * The grants: `secretsmanager:GetSecretValue` on exactly the configured secrets, `kms:Decrypt` on a canary's
 * `kmsKeyArn` (`lib/smtp-canary.ts`). Its handler is the export `handler` of `lambdas/smtp-canary/handler.ts`, invoked
 * by an EventBridge Scheduler schedule with `{}`.
 */

/** Service name in the function's logs and the `service` dimension of its metrics. */
export const SMTP_CANARY_SERVICE_NAME = 'ses-suppression-smtp-canary';

/** One canary as the function sees it: which credentials, for which region's endpoint. */
export interface SmtpCanaryTarget {
  readonly name: string;
  readonly region: string;
  readonly secretArn: string;
}

const CANARY_NAME = /^[A-Za-z0-9_-]{1,64}$/;
const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]{1,512}$/;

/** The canaries as a JSON list (the construct writes only what the configuration validated). */
export function canaryListVariable(name: string): EnvVariable<readonly SmtpCanaryTarget[]> {
  return {
    name,
    format: (canaries) => JSON.stringify(canaries.map(({ name, region, secretArn }) => ({ name, region, secretArn }))),
    parse: (raw) => {
      const fail = (why: string): never => {
        throw new Error(`${name} environment variable must be a JSON list of {"name", "region", "secretArn"}: ${why}`);
      };
      let value: unknown;
      try {
        value = JSON.parse(raw);
      } catch {
        return fail(`not JSON (${raw.length} characters)`);
      }
      if (!Array.isArray(value) || value.length === 0) return fail('not a non-empty list');
      return value.map((entry: unknown, index) => {
        const { name: canary, region, secretArn } = (entry ?? {}) as Record<string, unknown>;
        if (typeof canary !== 'string' || !CANARY_NAME.test(canary)) return fail(`entry ${index} has no valid name`);
        if (typeof region !== 'string' || !REGION_PATTERN.test(region)) return fail(`entry ${index} has no valid region`);
        if (typeof secretArn !== 'string' || !SECRET_ARN.test(secretArn)) return fail(`entry ${index} has no valid secretArn`);
        return { name: canary, region, secretArn };
      });
    },
  };
}

/** The function's environment variables. */
export const SMTP_CANARY_ENVIRONMENT = {
  canaries: canaryListVariable('SMTP_CANARIES'),
  port: positiveNumberVariable('SMTP_CANARY_PORT'),
  concurrency: positiveNumberVariable('SMTP_CANARY_CONCURRENCY'),
  probeTimeoutMs: positiveNumberVariable('SMTP_PROBE_TIMEOUT_MS'),
} as const;

/** The function's custom metrics, per canary; none carries a credential or an address. */
export const SMTP_CANARY_METRICS = {
  namespace: METRICS_NAMESPACE,
  serviceName: SMTP_CANARY_SERVICE_NAME,
  names: {
    /** 1 when SES accepted the canary's credentials (AUTH passed), 0 when it refused them; absent when AUTH was not reached. */
    auth: 'SmtpCanaryAuth',
    /** 1 when the canary could not get an answer to AUTH (secret unreadable, DNS, network, TLS, a temporary reply), else 0. */
    unchecked: 'SmtpCanaryUnchecked',
  },
  canaryDimension: 'Canary',
  regionDimension: 'Region',
  /** Every dimension of a canary's metrics: Powertools adds `service`, the handler the canary and its region. */
  dimensions: (canary: { readonly name: string; readonly region: string }): Record<string, string> => ({
    service: SMTP_CANARY_SERVICE_NAME,
    Canary: canary.name,
    Region: canary.region,
  }),
} as const;
