// The scale-out settings: SITE_S3_URL and the AWS_* variables, SITE_S3_FORCE_PATH_STYLE, SITE_POLL_MS.
import { describe, expect, it } from 'vitest';
import { ConfigError, readConfig } from '../api/config.ts';

function refusal(env: Record<string, string>): string {
  try {
    readConfig(env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).message;
  }
  throw new Error(`accepted ${JSON.stringify(env)}`);
}

describe('object storage and polling settings', () => {
  it('publishes nowhere and polls every 200 ms by default', () => {
    expect(readConfig({})).toMatchObject({ siteS3: null, sitePollMs: 200 });
  });

  it('reads the bucket, the prefix and the endpoint, the S3-specific endpoint first', () => {
    const c = readConfig({
      SITE_S3_URL: 's3://status-page/site/',
      AWS_ENDPOINT_URL: 'https://everything.example.com',
      AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9000',
      AWS_REGION: 'auto',
      SITE_S3_FORCE_PATH_STYLE: 'true',
    });
    expect(c.siteS3).toEqual({ url: 's3://status-page/site/', bucket: 'status-page', prefix: 'site/', endpoint: 'http://127.0.0.1:9000', region: 'auto', forcePathStyle: true });
    expect(readConfig({ SITE_S3_URL: 's3://status-page', AWS_DEFAULT_REGION: 'eu-west-1' }).siteS3).toMatchObject({ prefix: '', endpoint: undefined, region: 'eu-west-1', forcePathStyle: false });
    expect(readConfig({ SITE_S3_URL: 's3://b12/a/b' }).siteS3).toMatchObject({ bucket: 'b12', prefix: 'a/b/', region: 'us-east-1' });
  });

  it('refuses a bad value with one line naming the variable', () => {
    expect(refusal({ SITE_S3_URL: 'https://bucket.s3.amazonaws.com' })).toMatch(/^Configuration error: SITE_S3_URL=.* must be s3:\/\/bucket or s3:\/\/bucket\/prefix$/);
    expect(refusal({ SITE_S3_URL: 's3://Bad_Bucket' })).toMatch(/SITE_S3_URL/);
    // S3 bucket names are 3 to 63 characters.
    expect(refusal({ SITE_S3_URL: 's3://b1' })).toMatch(/SITE_S3_URL/);
    expect(refusal({ SITE_S3_URL: 's3://b12', AWS_ENDPOINT_URL_S3: 'minio:9000' })).toMatch(/^Configuration error: AWS_ENDPOINT_URL_S3="minio:9000" must be an http/);
    expect(refusal({ SITE_S3_FORCE_PATH_STYLE: 'maybe' })).toMatch(/SITE_S3_FORCE_PATH_STYLE/);
    expect(refusal({ SITE_POLL_MS: '10' })).toMatch(/^Configuration error: SITE_POLL_MS="10" must be a whole number of milliseconds from 50 to 1000$/);
    expect(refusal({ SITE_POLL_MS: '1e3' })).toMatch(/SITE_POLL_MS/);
  });
});
