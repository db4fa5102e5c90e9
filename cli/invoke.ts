import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { asCliError } from './errors';

/** What a function answered: its result, or the error it ended with (`<errorType>: <errorMessage>`). */
export type InvokeOutcome<T> = { readonly result: T; readonly error?: undefined } | { readonly result?: undefined; readonly error: string };

/**
 * Invokes a function synchronously with a JSON payload. An error the function itself ended with is an outcome (the
 * caller reports it per region); not reaching the function at all throws (exit 3), with `doing` in the message.
 */
export async function invokeJson<T>(
  lambda: LambdaClient,
  functionName: string,
  payload: unknown,
  doing: string,
): Promise<InvokeOutcome<T>> {
  let text: string;
  let functionError: string | undefined;
  try {
    const res = await lambda.send(
      new InvokeCommand({
        FunctionName: functionName,
        InvocationType: 'RequestResponse',
        Payload: new TextEncoder().encode(JSON.stringify(payload)),
      }),
    );
    text = res.Payload ? new TextDecoder().decode(res.Payload) : '';
    functionError = res.FunctionError;
  } catch (error) {
    throw asCliError(error, doing);
  }
  if (functionError) return { error: functionErrorDetail(text) };
  return { result: JSON.parse(text) as T };
}

/** `<errorType>: <errorMessage>` of a function's error payload, or the raw payload when it is not one. */
export function functionErrorDetail(text: string): string {
  try {
    const parsed = JSON.parse(text) as { errorType?: string; errorMessage?: string };
    if (parsed && typeof parsed === 'object' && (parsed.errorType || parsed.errorMessage))
      return `${parsed.errorType ?? 'Error'}: ${parsed.errorMessage ?? ''}`;
  } catch {
    // Not JSON: keep the raw payload.
  }
  return text;
}
