import { z } from 'zod';
import { MAX_TARGETED_ADDRESSES, type PropagationEvent } from '../../client/sync-contract';
import { canonicalAddress } from '../domain/address';
import type { SyncRequest } from './sync';

/** A validated invocation: a sync pass, or a propagation run. */
export type FunctionRequest =
  | (SyncRequest & { readonly kind: 'sync' })
  | (Required<Omit<PropagationEvent, 'addresses'>> & { readonly kind: 'propagate'; readonly addresses?: readonly string[] });

/** Thrown for a malformed invocation event; the message names the field and the value. */
export class InvalidEventError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidEventError';
  }
}

/**
 * Validates an invocation: `{"region": "<configured region>", "mode": "incremental" | "full" | "propagate"}` (mode
 * defaults to incremental), `"dryRun": true|false` with `propagate` only. Unknown fields are rejected so a typo in a
 * schedule's input is noticed.
 */
export function parseFunctionEvent(event: unknown, configuredRegions: readonly string[]): FunctionRequest {
  const raw = event !== null && typeof event === 'object' && !Array.isArray(event) ? (event as Record<string, unknown>) : undefined;
  if (raw?.mode !== 'propagate') {
    if (raw && 'dryRun' in raw) throw new InvalidEventError('invalid sync event: dryRun applies to mode "propagate" only');
    return { kind: 'sync', ...parseSyncEvent(event, configuredRegions) };
  }
  const { dryRun, addresses, ...rest } = raw;
  if (dryRun !== undefined && typeof dryRun !== 'boolean') {
    throw new InvalidEventError(`invalid sync event: dryRun must be true or false, got ${JSON.stringify(dryRun).slice(0, 40)}`);
  }
  const { region } = parseSyncEvent({ ...rest, mode: 'incremental' }, configuredRegions);
  return {
    kind: 'propagate',
    region,
    mode: 'propagate',
    dryRun: dryRun ?? false,
    ...(addresses !== undefined ? { addresses: parseAddresses(addresses) } : {}),
  };
}

/** The `addresses` of a targeted propagation: 1 to 500 strings that look like addresses, as canonical keys. */
function parseAddresses(value: unknown): string[] {
  const shape = `must be an array of 1 to ${MAX_TARGETED_ADDRESSES} email addresses`;
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_TARGETED_ADDRESSES) {
    const got = Array.isArray(value) ? `${value.length} elements` : JSON.stringify(value)?.slice(0, 40);
    throw new InvalidEventError(`invalid sync event: addresses ${shape}, got ${got}`);
  }
  return [
    ...new Set(
      value.map((address, index) => {
        if (typeof address !== 'string' || address.length > 320 || !/^[^@\s]+@[^@\s]+$/.test(address)) {
          // The value is not shown: it may be an address.
          throw new InvalidEventError(
            `invalid sync event: addresses[${index}] ${shape}, got a ${typeof address === 'string' ? `string of ${address.length} characters that is not one` : typeof address}`,
          );
        }
        return canonicalAddress(address);
      }),
    ),
  ];
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
        .enum(['incremental', 'full'], {
          error: (issue) => `must be "incremental", "full" or "propagate", got ${JSON.stringify(issue.input)?.slice(0, 60)}`,
        })
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
