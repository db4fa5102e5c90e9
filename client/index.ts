import { InvokeCommand, type InvokeCommandOutput, LambdaClient } from '@aws-sdk/client-lambda';
import { expandResponse, type GuardRequest, type GuardResponse, type GuardWireResponse } from './contract';

export * from './contract';
export type * from './ses-events';
export * from './sync-contract';

/** Options of {@link GuardClient}. */
export interface GuardClientOptions {
  /** Name or ARN of the guard function (the stack output `GuardFunctionName`). */
  readonly functionName: string;
  /**
   * Lambda client to invoke with. @default - a client from the SDK's standard configuration; set
   * `AWS_ENDPOINT_URL_LAMBDA` to point it at a local endpoint
   */
  readonly lambda?: LambdaClient;
}

/** Why the guard could not be asked. */
export type GuardUnavailableReason = 'INVOKE_FAILED' | 'FUNCTION_ERROR' | 'INVALID_RESPONSE';

/**
 * The guard could not be invoked or gave no verdict (network failure, access denied, throttling, a function error,
 * an unparsable answer). Treat it like `proceed: false`: never send without a verdict.
 */
export class GuardUnavailableError extends Error {
  constructor(
    message: string,
    readonly reason: GuardUnavailableReason,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'GuardUnavailableError';
  }
}

/** Calls the pre-send guard function and returns its typed verdict. Independent of CDK; needs only the Lambda SDK. */
export class GuardClient {
  private readonly lambda: LambdaClient;
  private readonly functionName: string;

  constructor(options: GuardClientOptions) {
    if (!options.functionName) throw new Error(`functionName must name the guard function, got ${JSON.stringify(options.functionName)}`);
    this.functionName = options.functionName;
    this.lambda = options.lambda ?? new LambdaClient({});
  }

  /**
   * Asks the guard whether a send may go ahead. Resolves with the verdict, including `proceed: false` answers for
   * invalid requests; rejects with {@link GuardUnavailableError} only when there is no verdict.
   */
  async check(request: GuardRequest): Promise<GuardResponse> {
    let out: InvokeCommandOutput;
    try {
      out = await this.lambda.send(
        new InvokeCommand({
          FunctionName: this.functionName,
          InvocationType: 'RequestResponse',
          Payload: new TextEncoder().encode(JSON.stringify(request)),
        }),
      );
    } catch (error) {
      throw new GuardUnavailableError(
        `could not invoke the guard function ${this.functionName}: ${(error as Error).name}: ${(error as Error).message}`,
        'INVOKE_FAILED',
        { cause: error },
      );
    }
    const text = out?.Payload ? new TextDecoder().decode(out.Payload) : '';
    if (out?.FunctionError) {
      let detail = text;
      try {
        const parsed = JSON.parse(text) as { errorType?: string; errorMessage?: string };
        detail = `${parsed.errorType ?? 'Error'}: ${parsed.errorMessage ?? ''}`;
      } catch {
        // Keep the raw payload as the detail.
      }
      throw new GuardUnavailableError(
        `the guard function ${this.functionName} failed (${out.FunctionError}): ${detail}`,
        'FUNCTION_ERROR',
        { cause: text },
      );
    }
    let response: unknown;
    try {
      response = JSON.parse(text);
    } catch (error) {
      throw new GuardUnavailableError(
        `the guard function ${this.functionName} answered with a payload that is not JSON: ${text.slice(0, 200)}`,
        'INVALID_RESPONSE',
        { cause: error },
      );
    }
    if (!isGuardResponse(response)) {
      throw new GuardUnavailableError(
        `the guard function ${this.functionName} answered with a payload that is not a guard response: ${text.slice(0, 200)}`,
        'INVALID_RESPONSE',
      );
    }
    try {
      return expandResponse(response, request);
    } catch (error) {
      throw new GuardUnavailableError(
        `the guard function ${this.functionName} answered about another request: ${(error as Error).message}`,
        'INVALID_RESPONSE',
        { cause: error },
      );
    }
  }
}

/** A structural check of the fields callers act on, in either form of the recipients. */
export function isGuardResponse(value: unknown): value is GuardWireResponse {
  const v = value as Partial<GuardResponse> | null;
  const recipients = v?.recipients as { allowed?: unknown; allowedIndexes?: unknown } | null | undefined;
  return (
    v !== null &&
    typeof v === 'object' &&
    typeof v.proceed === 'boolean' &&
    Array.isArray(v.problems) &&
    v.problems.every(
      (p) => p !== null && typeof p === 'object' && typeof p.code === 'string' && (p.severity === 'block' || p.severity === 'warn'),
    ) &&
    recipients !== null &&
    typeof recipients === 'object' &&
    (Array.isArray(recipients.allowed) || Array.isArray(recipients.allowedIndexes))
  );
}
