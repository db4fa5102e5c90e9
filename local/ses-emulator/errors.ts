/** SES v2 error codes the emulator emits, with the HTTP status the real service (and the SDK's model) uses. */
export const ERROR_STATUS = {
  BadRequestException: 400,
  InvalidNextTokenException: 400,
  AlreadyExistsException: 400,
  LimitExceededException: 400,
  // SendEmail's errors (SES v2 model: all client faults with HTTP 400).
  MessageRejected: 400,
  SendingPausedException: 400,
  AccountSuspendedException: 400,
  MailFromDomainNotVerifiedException: 400,
  NotFoundException: 404,
  UnknownOperationException: 404,
  MissingAuthenticationTokenException: 403,
  TooManyRequestsException: 429,
  // Modelled in SES v2 as a server fault, so the SDK's retry strategy treats it as transient.
  InternalServiceErrorException: 500,
} as const;

/** An SES error code the emulator can return. */
export type SesErrorCode = keyof typeof ERROR_STATUS;

/** An error that is rendered on the wire as `x-amzn-ErrorType: <code>` + `{"message": ...}`. */
export class SesError extends Error {
  readonly status: number;

  constructor(
    readonly code: SesErrorCode,
    message: string,
  ) {
    super(message);
    this.name = code;
    this.status = ERROR_STATUS[code];
  }
}

/** Shorthand for the most common validation failure. */
export function badRequest(message: string): SesError {
  return new SesError('BadRequestException', message);
}
