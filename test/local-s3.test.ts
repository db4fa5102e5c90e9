import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetBucketLocationCommand, ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { createStackBuckets, LOCAL_ACCOUNT_ID } from '../local/environment';
import { type LocalS3, startLocalS3 } from '../local/s3-local';
import { readStackTemplates, type Template } from '../local/synth';
import { createBucketsFromTemplate } from '../local/template-resources';

const credentials = { accessKeyId: 'AKIDTEST', secretAccessKey: 'x' };

function s3(endpoint: string, region: string): S3Client {
  return new S3Client({ region, endpoint, credentials, forcePathStyle: true });
}

/** A regional stack as the CDK app will synthesize it: an import bucket named from the account and region. */
function regionalTemplate(): Template {
  return {
    Resources: {
      ImportBucket1234: {
        Type: 'AWS::S3::Bucket',
        Properties: {
          BucketName: { 'Fn::Join': ['', ['ssg-import-', { Ref: 'AWS::AccountId' }, '-', { Ref: 'AWS::Region' }]] },
        },
      },
      Plain: { Type: 'AWS::S3::Bucket', Properties: { BucketName: 'ssg-plain-bucket' } },
      Unnamed: { Type: 'AWS::S3::Bucket' },
      Table: { Type: 'AWS::DynamoDB::Table', Properties: {} },
    },
  };
}

async function locationOf(endpoint: string, bucket: string): Promise<string> {
  const client = s3(endpoint, 'us-east-1');
  const out = await client.send(new GetBucketLocationCommand({ Bucket: bucket }));
  client.destroy();
  return out.LocationConstraint || 'us-east-1';
}

describe('Local S3 buckets from stack templates', () => {
  let local: LocalS3;
  let dir: string;
  beforeEach(async () => {
    local = await startLocalS3();
    dir = mkdtempSync(join(tmpdir(), 'ssg-assembly-'));
  });
  afterEach(async () => {
    await local.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates every bucket of a template in the stack region, resolving Fn::Join of account and region', async () => {
    // Prepare
    const client = s3(local.endpoint, 'eu-west-1');

    // Act
    const names = await createBucketsFromTemplate(client, regionalTemplate(), {
      stackName: 'SsgRegional-eu-west-1',
      region: 'eu-west-1',
      accountId: '123456789012',
    });
    const again = await createBucketsFromTemplate(client, regionalTemplate(), {
      stackName: 'SsgRegional-eu-west-1',
      region: 'eu-west-1',
      accountId: '123456789012',
    });

    // Assess
    expect(names).toEqual({
      ImportBucket1234: 'ssg-import-123456789012-eu-west-1',
      Plain: 'ssg-plain-bucket',
      Unnamed: 'ssgregional-eu-west-1-unnamed',
    });
    expect(again).toEqual(names);
    for (const name of Object.values(names)) expect(await locationOf(local.endpoint, name)).toBe('eu-west-1');
    client.destroy();
  });

  it('refuses a BucketName it cannot resolve locally', async () => {
    // Prepare
    const template: Template = { Resources: { B: { Type: 'AWS::S3::Bucket', Properties: { BucketName: { Ref: 'SomeParameter' } } } } };
    const client = s3(local.endpoint, 'us-east-1');

    // Act
    const attempt = createBucketsFromTemplate(client, template, { stackName: 'S', region: 'us-east-1', accountId: '1' });

    // Assess
    await expect(attempt).rejects.toThrow('cannot resolve B.BucketName');
    client.destroy();
  });

  it('reads every stack of a cloud assembly with its region and creates each stack’s buckets there', async () => {
    // Prepare: a home stack without an environment and two regional stacks.
    const template = JSON.stringify(regionalTemplate());
    writeFileSync(join(dir, 'Home.template.json'), JSON.stringify({ Resources: {} }));
    writeFileSync(join(dir, 'West.template.json'), template.replace('ssg-plain-bucket', 'ssg-plain-west'));
    writeFileSync(join(dir, 'Eu.template.json'), template.replace('ssg-plain-bucket', 'ssg-plain-eu'));
    const stack = (file: string, environment: string) => ({
      type: 'aws:cloudformation:stack',
      environment,
      properties: { templateFile: file },
    });
    writeFileSync(
      join(dir, 'manifest.json'),
      JSON.stringify({
        artifacts: {
          Home: stack('Home.template.json', 'aws://unknown-account/unknown-region'),
          West: stack('West.template.json', 'aws://unknown-account/us-west-2'),
          Eu: stack('Eu.template.json', 'aws://111122223333/eu-west-1'),
          Tree: { type: 'cdk:tree', properties: { file: 'tree.json' } },
        },
      }),
    );

    // Act
    const stacks = readStackTemplates(dir, 'us-east-1');
    const buckets = await createStackBuckets(dir, local.endpoint);

    // Assess
    expect(stacks.map((s) => [s.stackName, s.region, s.account])).toEqual([
      ['Home', 'us-east-1', undefined],
      ['West', 'us-west-2', undefined],
      ['Eu', 'eu-west-1', '111122223333'],
    ]);
    expect(buckets.Home).toEqual({});
    expect(buckets.West?.ImportBucket1234).toBe(`ssg-import-${LOCAL_ACCOUNT_ID}-us-west-2`);
    expect(buckets.Eu?.ImportBucket1234).toBe('ssg-import-111122223333-eu-west-1');
    expect(await locationOf(local.endpoint, buckets.West!.ImportBucket1234!)).toBe('us-west-2');
    expect(await locationOf(local.endpoint, 'ssg-plain-eu')).toBe('eu-west-1');
    const listing = s3(local.endpoint, 'us-east-1');
    expect((await listing.send(new ListBucketsCommand({}))).Buckets?.length).toBe(6);
    listing.destroy();
  });
});
