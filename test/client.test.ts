import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { GuardClient, type GuardResponse, GuardUnavailableError } from '../client';
import { freePort } from '../local/dynamodb-local';
import { type LambdaApi, startLambdaApi } from '../local/lambda-api';
import type { LocalLambda } from '../local/lambda-runtime';
import { SesEmulator } from '../local/ses-emulator';
import { startGuardBundle, syncAllRegions, verifyDomain } from './support/guard';
import { createTestTables, TEST_CREDENTIALS, type TestTables } from './support/local-aws';

describe('Class: GuardClient', () => {
  describe('Method: check (synthesized guard behind the local Lambda API)', () => {
    let emu: SesEmulator;
    let tables: TestTables;
    let fn: LocalLambda;
    let api: LambdaApi;
    const saved = process.env.AWS_ENDPOINT_URL_LAMBDA;

    beforeAll(async () => {
      // Prepare
      emu = await SesEmulator.start({ requestsPerSecond: 0, seed: 4 });
      tables = await createTestTables();
      verifyDomain(emu, 'example.com', ['us-east-1']);
      emu.region('eu-west-1').putSuppressed({ emailAddress: 'complained@example.org', reason: 'COMPLAINT' });
      await syncAllRegions(emu, tables);
      fn = await startGuardBundle(emu, tables, 'us-east-1');
      api = await startLambdaApi({ functions: { 'ses-guard': fn } });
    });
    afterAll(async () => {
      if (saved === undefined) delete process.env.AWS_ENDPOINT_URL_LAMBDA;
      else process.env.AWS_ENDPOINT_URL_LAMBDA = saved;
      await api?.stop();
      await fn?.stop();
      await emu?.stop();
    });

    it('returns the typed verdict, reaching the guard through AWS_ENDPOINT_URL_LAMBDA', async () => {
      // Prepare
      process.env.AWS_ENDPOINT_URL_LAMBDA = api.endpoint;
      const client = new GuardClient({
        functionName: 'ses-guard',
        lambda: new LambdaClient({ region: 'us-east-1', credentials: TEST_CREDENTIALS }),
      });

      // Act
      const response: GuardResponse = await client.check({
        from: 'Campaigns <campaigns@example.com>',
        region: 'us-east-1',
        recipients: ['complained@example.org', 'ok@example.org'],
      });

      // Assess
      expect(response.proceed).toBe(true);
      expect(response.recipients.allowed).toEqual(['ok@example.org']);
      expect(response.recipients.suppressed).toEqual([
        { address: 'complained@example.org', reason: 'COMPLAINT', regions: ['eu-west-1'], since: expect.any(String) },
      ]);
    });

    it('resolves blocked verdicts rather than throwing: the region mismatch incident', async () => {
      // Prepare
      const client = new GuardClient({
        functionName: 'arn:aws:lambda:us-east-1:000000000000:function:ses-guard',
        lambda: new LambdaClient({ region: 'us-east-1', endpoint: api.endpoint, credentials: TEST_CREDENTIALS }),
      });

      // Act
      const response = await client.check({ from: 'campaigns@example.com', region: 'us-west-2', recipients: ['ok@example.org'] });

      // Assess
      expect(response.proceed).toBe(false);
      expect(response.problems).toEqual([
        expect.objectContaining({
          code: 'IDENTITY_NOT_VERIFIED_IN_REGION',
          severity: 'block',
          details: expect.objectContaining({ verifiedInRegions: ['us-east-1'] }),
        }),
      ]);
    });

    it('throws GuardUnavailableError with the cause when the function does not exist', async () => {
      // Prepare
      const client = new GuardClient({
        functionName: 'no-such-guard',
        lambda: new LambdaClient({ region: 'us-east-1', endpoint: api.endpoint, credentials: TEST_CREDENTIALS, maxAttempts: 1 }),
      });

      // Act
      const error = await client.check({ from: 'campaigns@example.com', recipients: ['ok@example.org'] }).catch((e: unknown) => e);

      // Assess
      expect(error).toBeInstanceOf(GuardUnavailableError);
      expect(error).toMatchObject({ reason: 'INVOKE_FAILED', cause: expect.objectContaining({ name: 'ResourceNotFoundException' }) });
    });
  });

  describe('Method: check (failure modes)', () => {
    let lambdaMock: ReturnType<typeof mockClient>;
    beforeEach(() => {
      lambdaMock = mockClient(LambdaClient);
    });
    afterEach(() => lambdaMock.restore());
    const request = { from: 'campaigns@example.com', recipients: ['ok@example.org'] };
    const encode = (value: unknown) => new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value)) as never;

    it('throws GuardUnavailableError when the endpoint cannot be reached', async () => {
      // Prepare
      lambdaMock.restore();
      const port = await freePort();
      const client = new GuardClient({
        functionName: 'ses-guard',
        lambda: new LambdaClient({
          region: 'us-east-1',
          endpoint: `http://127.0.0.1:${port}`,
          credentials: TEST_CREDENTIALS,
          maxAttempts: 1,
        }),
      });

      // Act
      const error = await client.check(request).catch((e: unknown) => e);

      // Assess
      expect(error).toBeInstanceOf(GuardUnavailableError);
      expect(error).toMatchObject({
        name: 'GuardUnavailableError',
        reason: 'INVOKE_FAILED',
        message: expect.stringContaining('could not invoke the guard function ses-guard'),
      });
      expect((error as Error).cause).toBeDefined();
    });

    it('sends a RequestResponse invocation with the request as JSON', async () => {
      // Prepare
      const verdict = {
        proceed: false,
        problems: [],
        sender: null,
        account: null,
        recipients: { total: 1, allowed: [], suppressed: [], invalid: [], duplicates: 0 },
      };
      lambdaMock.on(InvokeCommand).resolves({ StatusCode: 200, Payload: encode(verdict) });

      // Act
      const response = await new GuardClient({ functionName: 'ses-guard', lambda: new LambdaClient({ region: 'us-east-1' }) }).check(
        request,
      );

      // Assess
      expect(response).toEqual(verdict);
      const input = lambdaMock.commandCalls(InvokeCommand)[0]!.args[0].input;
      expect(input).toMatchObject({ FunctionName: 'ses-guard', InvocationType: 'RequestResponse' });
      expect(JSON.parse(new TextDecoder().decode(input.Payload as Uint8Array))).toEqual(request);
    });

    it.each([
      [
        'access is denied',
        () =>
          lambdaMock
            .on(InvokeCommand)
            .rejects(Object.assign(new Error('not authorized to perform lambda:InvokeFunction'), { name: 'AccessDeniedException' })),
        'INVOKE_FAILED',
      ],
      [
        'the function fails',
        () =>
          lambdaMock.on(InvokeCommand).resolves({
            StatusCode: 200,
            FunctionError: 'Unhandled',
            Payload: encode({ errorType: 'Runtime.ExitError', errorMessage: 'boom' }),
          }),
        'FUNCTION_ERROR',
      ],
      [
        'the payload is not JSON',
        () => lambdaMock.on(InvokeCommand).resolves({ StatusCode: 200, Payload: encode('<html>') }),
        'INVALID_RESPONSE',
      ],
      [
        'the payload is not a verdict',
        () => lambdaMock.on(InvokeCommand).resolves({ StatusCode: 200, Payload: encode({ statusCode: 200, body: '{}' }) }),
        'INVALID_RESPONSE',
      ],
    ])('throws GuardUnavailableError when %s', async (_name, arrange, reason) => {
      // Prepare
      arrange();
      const client = new GuardClient({ functionName: 'ses-guard', lambda: new LambdaClient({ region: 'us-east-1' }) });

      // Act
      const error = await client.check(request).catch((e: unknown) => e);

      // Assess
      expect(error).toBeInstanceOf(GuardUnavailableError);
      expect((error as GuardUnavailableError).reason).toBe(reason);
    });

    it('refuses to be built without a function name', () => {
      expect(() => new GuardClient({ functionName: '' })).toThrow('functionName must name the guard function, got ""');
    });
  });
});
