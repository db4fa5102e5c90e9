import { z } from 'zod';
import type { SyncRequest } from './sync';

/** Thrown for a malformed invocation event; the message names the field and the value. */
export class InvalidEventError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidEventError';
  }
}

/**
 * Validates a sync event: `{"region": "<configured region>", "mode": "incremental" | "full"}` (mode defaults to
 * incremental). Unknown fields are rejected so a typo in a schedule's input is noticed.
 */
export function parseSyncEvent(event: unknown, configuredRegions: readonly string[]): SyncRequest {
  const schema = z
    .object({
      region: z.string({
        error: (issue) => (issue.input === undefined ? 'is required' : `must be a string, got ${JSON.stringify(issue.input)}`),
      }),
      mode: z
        .enum(['incremental', 'full'], { error: (issue) => `must be "incremental" or "full", got ${JSON.stringify(issue.input)}` })
        .default('incremental'),
    })
    .strict();
  const result = schema.safeParse(event);
  if (!result.success) {
    if (event === null || typeof event !== 'object' || Array.isArray(event)) {
      throw new InvalidEventError(`invalid sync event: expected an object like {"region":"us-east-1"}, got ${JSON.stringify(event)}`);
    }
    throw new InvalidEventError(`invalid sync event: ${formatIssues(result.error)}`);
  }
  const { region, mode } = result.data;
  if (!configuredRegions.includes(region)) {
    throw new InvalidEventError(
      `invalid sync event: region must be one of the configured regions ${configuredRegions.join(', ')}, got ${JSON.stringify(region)}`,
    );
  }
  return { region, mode };
}

/** Formats zod issues as `field: message; field: message`. */
export function formatIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      if (issue.code === 'unrecognized_keys')
        return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}`;
      const path = issue.path.map(String).join('.');
      return path ? `${path} ${issue.message}` : issue.message;
    })
    .join('; ');
}
