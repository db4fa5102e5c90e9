import { quietSdkNodeVersionWarning } from '../../local/sdk-warnings';

// Tests never reach AWS: fixed fake credentials, a home region, and quiet Powertools output (and no SDK notice
// about Node.js versions, in the test processes and every process they start).
quietSdkNodeVersionWarning();
process.env.AWS_ACCESS_KEY_ID ??= 'AKIDLOCALTEST';
process.env.AWS_SECRET_ACCESS_KEY ??= 'local-test-secret';
process.env.AWS_REGION ??= 'us-east-1';
process.env.POWERTOOLS_DEV = 'true';
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
process.env.AWS_EC2_METADATA_DISABLED = 'true';
delete process.env.AWS_PROFILE;
