import { MAX_RECIPIENTS } from '../../client/contract';
import { type ParsedFrom, parseFrom } from '../domain/email';
import { boundedValue, excerpt, hasControlCharacter } from '../domain/text';

/** A request that passed validation, with defaults applied. */
export interface ValidRequest {
  readonly from: ParsedFrom;
  readonly region: string;
  /** Recipients exactly as given (validated one by one later, so one bad address does not reject the list). */
  readonly recipients: readonly string[];
  readonly configurationSetName?: string;
  readonly caller?: string;
}

/** One reason a request is malformed: the field (a path like `recipients[3]`), the offending value and why. */
export interface RequestIssue {
  readonly field: string;
  readonly value: unknown;
  readonly message: string;
}

/** Where the guard runs and what it may check. */
export interface RequestContext {
  /** Regions the guard has data for (`SYNC_REGIONS`). */
  readonly regions: readonly string[];
  /** The guard's own region (`AWS_REGION`), used when the request names none. */
  readonly defaultRegion: string;
}

const FIELDS = ['from', 'region', 'recipients', 'configurationSetName', 'caller'] as const;
/** Shape of an SES configuration set name: 1-64 letters, digits, `_` or `-`. */
export const CONFIGURATION_SET_NAME = /^[A-Za-z0-9_-]{1,64}$/;
const MAX_CALLER_LENGTH = 128;
const MAX_ISSUES = 20;

/**
 * Validates a guard request by hand (a schema library would dominate the bundle). Every issue names the field and
 * the value; unknown fields are issues too, so a typo such as `recipient` cannot silently skip the check.
 */
export function parseRequest(
  event: unknown,
  context: RequestContext,
): { ok: true; request: ValidRequest } | { ok: false; issues: RequestIssue[] } {
  if (event === null || typeof event !== 'object' || Array.isArray(event)) {
    return {
      ok: false,
      issues: [
        {
          field: '(request)',
          value: boundedValue(event),
          message: `the request must be a JSON object like {"from": "...", "recipients": ["..."]}, got ${describe(event)}`,
        },
      ],
    };
  }
  const input = event as Record<string, unknown>;
  const issues: RequestIssue[] = [];
  const issue = (field: string, value: unknown, message: string) =>
    issues.push({ field, value: boundedValue(value), message: `${field} ${message}` });

  for (const key of Object.keys(input)) {
    if (!(FIELDS as readonly string[]).includes(key))
      issue(
        key.length <= 64 ? key : `${key.slice(0, 64)}... (${key.length} characters)`,
        input[key],
        `is not a known field (expected ${FIELDS.join(', ')}), got ${describe(input[key])}`,
      );
  }

  let from: ParsedFrom | undefined;
  if (input.from === undefined) issue('from', undefined, 'is required');
  else if (typeof input.from !== 'string') issue('from', input.from, `must be a string, got ${describe(input.from)}`);
  else {
    const parsed = parseFrom(input.from);
    if (parsed.ok) from = parsed.value;
    else issue('from', input.from, `${parsed.error}, got ${excerpt(input.from)}`);
  }

  let region = context.defaultRegion;
  if (input.region !== undefined) {
    if (typeof input.region !== 'string') issue('region', input.region, `must be a string, got ${describe(input.region)}`);
    else region = input.region;
  }
  if (typeof region === 'string' && !context.regions.includes(region)) {
    const given = input.region === undefined ? `defaults to the guard's region ${excerpt(region)}, which` : excerpt(region);
    issue('region', region, `must be one of the configured regions ${context.regions.join(', ')}; ${given} is not one`);
  }

  const recipients = input.recipients;
  if (recipients === undefined) issue('recipients', undefined, 'is required');
  else if (!Array.isArray(recipients)) issue('recipients', recipients, `must be an array of addresses, got ${describe(recipients)}`);
  else if (recipients.length === 0) issue('recipients', recipients, 'must name at least one recipient, got an empty list');
  else if (recipients.length > MAX_RECIPIENTS)
    issue('recipients', recipients, `must have at most ${MAX_RECIPIENTS} recipients per check, got ${recipients.length}; split the list`);
  else {
    recipients.forEach((recipient: unknown, index) => {
      if (typeof recipient !== 'string') issue(`recipients[${index}]`, recipient, `must be a string, got ${describe(recipient)}`);
    });
  }

  const configurationSetName = input.configurationSetName;
  if (configurationSetName !== undefined) {
    if (typeof configurationSetName !== 'string')
      issue('configurationSetName', configurationSetName, `must be a string, got ${describe(configurationSetName)}`);
    else if (!CONFIGURATION_SET_NAME.test(configurationSetName)) {
      issue(
        'configurationSetName',
        configurationSetName,
        `must be 1-64 letters, digits, "_" or "-" (an SES configuration set name), got ${excerpt(configurationSetName)}`,
      );
    }
  }

  const caller = input.caller;
  if (caller !== undefined) {
    if (typeof caller !== 'string') issue('caller', caller, `must be a string, got ${describe(caller)}`);
    else if (caller.length > MAX_CALLER_LENGTH || hasControlCharacter(caller)) {
      issue('caller', caller, `must be at most ${MAX_CALLER_LENGTH} printable characters, got ${excerpt(caller, 40)}`);
    }
  }

  if (issues.length > 0 || !from) {
    const shown = issues.slice(0, MAX_ISSUES);
    if (issues.length > MAX_ISSUES) {
      shown.push({ field: '(request)', value: issues.length, message: `${issues.length - MAX_ISSUES} more issues not shown` });
    }
    return { ok: false, issues: shown };
  }
  return {
    ok: true,
    request: {
      from,
      region,
      recipients: recipients as string[],
      ...(configurationSetName !== undefined ? { configurationSetName: configurationSetName as string } : {}),
      ...(caller !== undefined ? { caller: caller as string } : {}),
    },
  };
}

/** A short description of a value's type and content for error messages. */
function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length} items`;
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return `the string ${excerpt(value)}`;
  return `${typeof value} ${String(value)}`;
}
