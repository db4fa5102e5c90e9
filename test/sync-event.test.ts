import { addressRef, canonicalAddress } from '../lambdas/domain/address';
import { backoffDelay, isNetworkError, isRetryable, isThrottle, Pacer } from '../lambdas/domain/retry';
import { SES_CALLERS, SesPacers } from '../lambdas/domain/ses';
import { InvalidEventError, parseFunctionEvent, parseSyncEvent } from '../lambdas/sync/event';

describe('Function: parseSyncEvent', () => {
  const regions = ['us-east-1', 'eu-west-1'];

  it('defaults the mode to incremental', () => {
    expect(parseSyncEvent({ region: 'eu-west-1' }, regions)).toEqual({ region: 'eu-west-1', mode: 'incremental' });
  });

  it.each([
    [undefined, /expected an object/],
    ['us-east-1', /expected an object/],
    [{ region: 42 }, /region must be a string, got 42/],
    [{ region: 'us-west-2' }, /region must be one of the configured regions us-east-1, eu-west-1, got "us-west-2"/],
    [{ region: 'us-east-1', mode: 'FULL' }, /mode must be "incremental", "full" or "propagate", got "FULL"/],
  ])('rejects %j', (event, message) => {
    expect(() => parseSyncEvent(event, regions)).toThrow(InvalidEventError);
    expect(() => parseSyncEvent(event, regions)).toThrow(message);
  });
});

describe('Class: Pacer', () => {
  it('spaces acquisitions by the interval whatever the caller does', async () => {
    // Prepare
    let clock = 0;
    const waits: number[] = [];
    const pacer = new Pacer(
      2,
      () => clock,
      async (ms) => {
        waits.push(ms);
        clock += ms;
      },
    );

    // Act
    await pacer.acquire();
    await pacer.acquire();
    clock += 100;
    await pacer.acquire();
    pacer.delay(2000);
    await pacer.acquire();

    // Assess
    expect(waits).toEqual([500, 400, 2000]);
  });

  it('rejects a non-positive rate', () => {
    expect(() => new Pacer(0)).toThrow('requestsPerSecond must be a positive number, got 0');
  });
});

describe('Class: SesPacers', () => {
  it('paces each operation in each region on its own, at the caller share of the rate', async () => {
    // Prepare
    let clock = 0;
    const waits: string[] = [];
    const pacers = new SesPacers(
      2,
      SES_CALLERS.guard.pacingHeadroom,
      () => clock,
      async (ms) => {
        waits.push(`${ms}`);
        clock += ms;
      },
    );

    // Act
    await pacers.acquire('us-east-1', 'GetAccount');
    await pacers.acquire('us-east-1', 'GetEmailIdentity');
    await pacers.acquire('eu-west-1', 'GetAccount');
    await pacers.acquire('us-east-1', 'GetAccount');

    // Assess: only the second GetAccount in us-east-1 waits, for 1 / (2 × 0.8) s
    expect(waits).toEqual(['625']);
    expect(pacers.forOperation('us-east-1', 'GetAccount')).toBe(pacers.forOperation('us-east-1', 'GetAccount'));
  });
});

describe('Function: isRetryable', () => {
  it.each([
    [{ name: 'TooManyRequestsException', $metadata: { httpStatusCode: 429 } }, true, true],
    [{ name: 'InternalServiceErrorException', $metadata: { httpStatusCode: 500 } }, true, false],
    [{ name: 'TimeoutError' }, true, false],
    [{ name: 'BadRequestException', $metadata: { httpStatusCode: 400 } }, false, false],
    [{ name: 'InvalidNextTokenException', $metadata: { httpStatusCode: 400 } }, false, false],
    [Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), true, false],
    [Object.assign(new Error('getaddrinfo EAI_AGAIN'), { code: 'EAI_AGAIN' }), true, false],
    [{ name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } }, true, true],
    [{ name: 'ServiceUnavailable', $metadata: { httpStatusCode: 503 } }, true, false],
    [{ name: 'AbortError' }, false, false],
    [null, false, false],
  ])('classifies %j', (error, retryable, throttle) => {
    expect(isRetryable(error)).toBe(retryable);
    expect(isThrottle(error)).toBe(throttle);
  });

  it('caps the backoff and keeps it within the exponential bound', () => {
    expect(backoffDelay(10, 100, 5000, () => 0.999)).toBeLessThan(5000);
    expect(backoffDelay(2, 100, 5000, () => 0.5)).toBe(200);
  });
});

describe('Function: isNetworkError', () => {
  it.each([
    ['a Node.js socket error', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }), true],
    [
      'one wrapped as the cause of an SDK error',
      new Error('request failed', { cause: Object.assign(new Error('x'), { code: 'EAI_AGAIN' }) }),
      true,
    ],
    ['the SDK timeout', Object.assign(new Error('timed out'), { name: 'TimeoutError' }), true],
    ['a throttling answer (the endpoint answered)', Object.assign(new Error('slow down'), { name: 'TooManyRequestsException' }), false],
    ['an access denial', Object.assign(new Error('no'), { name: 'AccessDeniedException', code: 'AccessDenied' }), false],
    ['nothing', undefined, false],
  ])('%s: %s', (_label, error, expected) => {
    expect(isNetworkError(error)).toBe(expected);
  });
});

describe('Function: canonicalAddress', () => {
  it('trims and lower-cases, and addressRef never contains the address', () => {
    expect(canonicalAddress('  Some.One@Example.COM ')).toBe('some.one@example.com');
    expect(addressRef('Some.One@Example.COM')).toBe(addressRef('some.one@example.com'));
    expect(addressRef('some.one@example.com')).toMatch(/^[0-9a-f]{12}$/);
  });
});

describe('Function: parseFunctionEvent', () => {
  const regions = ['us-east-1', 'eu-west-1'];

  it('reads a propagation event, with dryRun false unless asked', () => {
    expect(parseFunctionEvent({ region: 'eu-west-1', mode: 'propagate' }, regions)).toEqual({
      kind: 'propagate',
      region: 'eu-west-1',
      mode: 'propagate',
      dryRun: false,
    });
    expect(parseFunctionEvent({ region: 'eu-west-1', mode: 'propagate', dryRun: true }, regions)).toMatchObject({ dryRun: true });
    expect(parseFunctionEvent({ region: 'eu-west-1', mode: 'full' }, regions)).toEqual({ kind: 'sync', region: 'eu-west-1', mode: 'full' });
  });

  it('reads the addresses of a targeted propagation as canonical keys, once each', () => {
    expect(
      parseFunctionEvent(
        { region: 'eu-west-1', mode: 'propagate', addresses: ['Gone.Away@Example.org', 'gone.away@example.org', 'b@x.io'] },
        regions,
      ),
    ).toEqual({ kind: 'propagate', region: 'eu-west-1', mode: 'propagate', dryRun: false, addresses: ['gone.away@example.org', 'b@x.io'] });
  });

  it.each([
    [{ region: 'eu-west-1', mode: 'propagate', dryRun: 'yes' }, /dryRun must be true or false, got "yes"/],
    [{ region: 'eu-west-1', mode: 'full', dryRun: true }, /dryRun applies to mode "propagate" only/],
    [{ region: 'ap-south-1', mode: 'propagate' }, /region must be one of the configured regions us-east-1, eu-west-1, got "ap-south-1"/],
    [{ mode: 'propagate' }, /region is required/],
    [{ region: 'eu-west-1', mode: 'propagate', force: true }, /unknown field "force"/],
    [{ region: 'eu-west-1', mode: 'propagate', addresses: [] }, /addresses must be an array of 1 to 500 email addresses, got 0 elements/],
    [{ region: 'eu-west-1', mode: 'propagate', addresses: 'a@b.c' }, /addresses must be an array .*, got "a@b.c"/],
    [{ region: 'eu-west-1', mode: 'propagate', addresses: Array(501).fill('a@b.c') }, /got 501 elements/],
    [
      { region: 'eu-west-1', mode: 'propagate', addresses: ['a@b.c', 'not an address'] },
      /addresses\[1\] .*got a string of 14 characters that is not one/,
    ],
    [{ region: 'eu-west-1', mode: 'propagate', addresses: ['a@b.c', 7] }, /addresses\[1\] .*got a number/],
    [{ region: 'eu-west-1', mode: 'full', addresses: ['a@b.c'] }, /unknown field "addresses"/],
  ])('refuses %j naming the field', (event, message) => {
    expect(() => parseFunctionEvent(event, regions)).toThrow(message);
  });
});
