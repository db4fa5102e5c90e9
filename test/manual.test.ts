import { BadRequestException, NotFoundException, TooManyRequestsException } from '@aws-sdk/client-sesv2';
import { manualChange } from '../cli/commands/manual';
import { EXIT } from '../cli/errors';
import { isTransient, planManualSuppress } from '../lambdas/domain/manual';
import type { ManualEntry } from '../lambdas/domain/records';

const inForce = (reason: ManualEntry['reason'], note?: string): ManualEntry => ({
  reason,
  status: 'LISTED',
  at: '2026-01-02T03:04:05.000Z',
  by: 'arn:aws:iam::123456789012:user/first',
  ...(note !== undefined ? { note } : {}),
});

describe('Function: planManualSuppress', () => {
  it('begins a new suppression where none is in force', () => {
    // Act
    const fresh = planManualSuppress(undefined, 'BOUNCE', undefined, false);
    const afterUnsuppress = planManualSuppress({ ...inForce('COMPLAINT'), status: 'REMOVED' }, 'BOUNCE', undefined, false);

    // Assess
    expect(fresh).toEqual({
      outcome: 'created',
      changes: [
        { field: 'status', to: 'LISTED' },
        { field: 'reason', to: 'BOUNCE' },
      ],
    });
    expect(afterUnsuppress).toEqual({
      outcome: 'created',
      changes: [
        { field: 'status', from: 'REMOVED', to: 'LISTED' },
        { field: 'reason', from: 'COMPLAINT', to: 'BOUNCE' },
      ],
    });
  });

  it('changes only the reason and note of a suppression in force, keeping when and by whom it began', () => {
    // Act
    const plan = planManualSuppress(inForce('BOUNCE', 'ticket 1'), 'COMPLAINT', 'ticket 2', false);

    // Assess
    expect(plan).toEqual({
      outcome: 'updated',
      after: { ...inForce('COMPLAINT'), note: 'ticket 2' },
      changes: [
        { field: 'reason', from: 'BOUNCE', to: 'COMPLAINT' },
        { field: 'note', from: 'ticket 1', to: 'ticket 2' },
      ],
    });
  });

  it('changes nothing when the reason is the same and no other note is given', () => {
    // Act
    const outcome = planManualSuppress(inForce('BOUNCE', 'ticket 1'), 'BOUNCE', undefined, false).outcome;

    // Assess
    expect(outcome).toBe('unchanged');
  });

  it('refuses to downgrade a complaint to a bounce unless forced', () => {
    // Act
    const refused = planManualSuppress(inForce('COMPLAINT'), 'BOUNCE', undefined, false);
    const forced = planManualSuppress(inForce('COMPLAINT'), 'BOUNCE', undefined, true);

    // Assess
    expect(refused.outcome).toBe('refused');
    expect(forced).toMatchObject({ outcome: 'updated', after: { reason: 'BOUNCE', at: inForce('BOUNCE').at } });
  });
});

describe('Function: isTransient', () => {
  const metadata = (httpStatusCode: number) => ({ $metadata: { httpStatusCode } });

  it('counts throttling, 5xx answers and network failures as transient', () => {
    // Prepare
    const throttled = new TooManyRequestsException({ message: 'Too many requests', ...metadata(429) });
    const serverError = Object.assign(new Error('internal'), { name: 'InternalServiceErrorException', ...metadata(500) });
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    const wrapped = new Error('request failed', { cause: refused });

    // Act
    const verdicts = [throttled, serverError, refused, wrapped].map(isTransient);

    // Assess
    expect(verdicts).toEqual([true, true, true, true]);
  });

  it('counts a refusal (4xx) as not transient', () => {
    // Prepare
    const badRequest = new BadRequestException({ message: "can't be removed", ...metadata(400) });
    const notFound = new NotFoundException({ message: 'not found', ...metadata(404) });

    // Act
    const verdicts = [badRequest, notFound].map(isTransient);

    // Assess
    expect(verdicts).toEqual([false, false]);
  });
});

describe('Function: manualChange (ssg suppress, unsuppress, import)', () => {
  it('ends with exit 3 and says to try again when DynamoDB fails transiently', async () => {
    // Prepare
    const throttled = Object.assign(new Error('Throughput exceeds the current capacity'), {
      name: 'ProvisionedThroughputExceededException',
      $metadata: { httpStatusCode: 400 },
    });

    // Act
    const run = manualChange('nothing was changed', () => Promise.reject(throttled));

    // Assess
    await expect(run).rejects.toMatchObject({
      exitCode: EXIT.UNAVAILABLE,
      message: expect.stringMatching(/ProvisionedThroughputExceededException.*a transient failure; nothing was changed\. Try again\.$/),
    });
  });

  it('passes any other failure on unchanged', async () => {
    // Prepare
    const denied = Object.assign(new Error('not authorized'), { name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } });

    // Act
    const run = manualChange('nothing was changed', () => Promise.reject(denied));

    // Assess
    await expect(run).rejects.toBe(denied);
  });
});
