import { DEFAULT_CONFIG, parseConfig } from '../lib/config';

describe('Function: parseConfig', () => {
  it('applies the documented defaults', () => {
    expect(parseConfig(undefined)).toMatchObject({ ...DEFAULT_CONFIG, regions: [...DEFAULT_CONFIG.regions] });
  });

  it('accepts regions as a comma-separated string (handy with cdk -c)', () => {
    expect(parseConfig({ regions: 'us-east-1, eu-west-1' }).regions).toEqual(['us-east-1', 'eu-west-1']);
  });

  it.each([
    [{ regions: [] }, /ses-suppression-guard\.regions must name at least one region/],
    [{ regions: ['us-east-1', 'moon-1'] }, /ses-suppression-guard\.regions\.1 must be an SES region .* got "moon-1"/],
    [{ regions: ['us-east-1', 'us-east-1'] }, /must not repeat a region/],
    [
      { syncSchedule: 'every 5 minutes' },
      /ses-suppression-guard\.syncSchedule must be an EventBridge Scheduler expression .* got "every 5 minutes"/,
    ],
    [{ requestsPerSecond: 0 }, /requestsPerSecond must be a positive number such as 1, got 0/],
    [{ requestsPerSecond: '1' }, /requestsPerSecond must be a positive number such as 1, got "1"/],
    [{ staleAfterMinutes: -5 }, /staleAfterMinutes must be a positive number/],
    [{ alarmTopicArn: 'my-topic' }, /alarmTopicArn must be an SNS topic ARN, got "my-topic"/],
    [{ region: 'us-east-1' }, /unknown setting region/],
  ])('rejects %j with a message naming the field and value', (raw, message) => {
    expect(() => parseConfig(raw)).toThrow(message);
  });
});
