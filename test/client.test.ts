import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import {
  GuardClient,
  type GuardResponse,
  GuardUnavailableError,
  type IndexedRecipientsVerdict,
  MAX_PAYLOAD_BYTES,
  MAX_RECIPIENTS,
} from '../client';
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

  describe("Method: check (answers at Lambda's payload limit, through the local Lambda API's 6 MB quotas)", () => {
    let emu: SesEmulator;
    let tables: TestTables;
    let fn: LocalLambda;
    let api: LambdaApi;
    let client: GuardClient;
    // 245-character addresses (the longest a mailbox gets is 254): 20,000 of them make a 5 MB request.
    const longAddress = (i: number) =>
      `s${String(i).padStart(6, '0')}-${'a'.repeat(56)}@${'d'.repeat(60)}.${'e'.repeat(60)}.${'f'.repeat(50)}.example`;

    beforeAll(async () => {
      // Prepare: 20,000 long addresses suppressed in us-east-1, synced into the canonical table.
      emu = await SesEmulator.start({ requestsPerSecond: 0, seed: 5 });
      tables = await createTestTables();
      verifyDomain(emu, 'example.com', ['us-east-1']);
      emu
        .region('us-east-1')
        .putSuppressedMany(Array.from({ length: 20_000 }, (_, i) => ({ emailAddress: longAddress(i), reason: 'BOUNCE' })));
      await syncAllRegions(emu, tables);
      fn = await startGuardBundle(emu, tables, 'us-east-1');
      api = await startLambdaApi({ functions: { 'ses-guard': fn } });
      client = new GuardClient({
        functionName: 'ses-guard',
        lambda: new LambdaClient({ region: 'us-east-1', endpoint: api.endpoint, credentials: TEST_CREDENTIALS, maxAttempts: 1 }),
      });
    }, 180_000);
    afterAll(async () => {
      await api?.stop();
      await fn?.stop();
      await emu?.stop();
    });

    it('answers 20,000 suppressed long addresses, whose full answer is over 6 MB, by position; the client expands it', async () => {
      // Prepare: two sendable recipients around the suppressed ones.
      const recipients = ['first@example.org', ...Array.from({ length: 20_000 }, (_, i) => longAddress(i)), 'last@example.org'];
      const request = { from: 'campaigns@example.com', region: 'us-east-1', recipients };
      expect(Buffer.byteLength(JSON.stringify(request))).toBeLessThan(MAX_PAYLOAD_BYTES);

      // Act
      const raw = await rawInvoke(api, request);
      const response = await client.check(request);

      // Assess: the wire answer is the indexed form under the quota; the expanded one would not have fit.
      expect(raw.recipients).toMatchObject({ form: 'indexed', total: 20_002, allowedIndexes: [0, 20_001] });
      expect(raw.recipients).not.toHaveProperty('omitted');
      expect(response.proceed).toBe(true);
      expect(response.recipients.allowed).toEqual(['first@example.org', 'last@example.org']);
      expect(response.recipients.suppressed).toHaveLength(20_000);
      expect(response.recipients.suppressed[19_999]).toEqual({
        address: longAddress(19_999),
        reason: 'BOUNCE',
        regions: ['us-east-1'],
        since: expect.any(String),
      });
      expect(Buffer.byteLength(JSON.stringify(response))).toBeGreaterThan(MAX_PAYLOAD_BYTES);
    });

    it('answers 50,000 recipients, almost all invalid, under the quota: invalid entries past the limit are counted, not listed', async () => {
      // Prepare: the largest recipient count, 112-character non-addresses (5.7 MB of request), 10 valid ones first.
      const valid = Array.from({ length: 10 }, (_, i) => `ok${i}@example.org`);
      const junk = Array.from({ length: MAX_RECIPIENTS - 10 }, (_, i) => `${String(i).padStart(6, '0')}-${'x'.repeat(105)}`);
      const request = { from: 'campaigns@example.com', region: 'us-east-1', recipients: [...valid, ...junk] };
      expect(Buffer.byteLength(JSON.stringify(request))).toBeLessThan(MAX_PAYLOAD_BYTES);

      // Act
      const raw = await rawInvoke(api, request);
      const response = await client.check(request);

      // Assess
      expect(raw.recipients.allowedIndexes).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      expect(response.proceed).toBe(true);
      expect(response.recipients.allowed).toEqual(valid);
      const omitted = response.recipients.omitted!;
      expect(omitted.invalid).toBeGreaterThan(0);
      expect(response.recipients.invalid.length + omitted.invalid).toBe(MAX_RECIPIENTS - 10);
      expect(response.recipients.invalid[0]).toMatchObject({ address: junk[0], error: expect.stringContaining('recipients[10]') });
      expect(response.problems).toContainEqual(
        expect.objectContaining({ code: 'RECIPIENTS_INVALID', details: { count: MAX_RECIPIENTS - 10 } }),
      );
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

/** Invokes the guard through the local Lambda API and returns the payload as it crossed the wire. */
async function rawInvoke(api: LambdaApi, request: unknown): Promise<{ recipients: IndexedRecipientsVerdict }> {
  const lambda = new LambdaClient({ region: 'us-east-1', endpoint: api.endpoint, credentials: TEST_CREDENTIALS, maxAttempts: 1 });
  const out = await lambda.send(
    new InvokeCommand({ FunctionName: 'ses-guard', Payload: new TextEncoder().encode(JSON.stringify(request)) }),
  );
  expect(out.FunctionError).toBeUndefined();
  const payload = out.Payload ?? new Uint8Array();
  expect(payload.byteLength).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);
  return JSON.parse(new TextDecoder().decode(payload));
}
