// Configuration: good values and defaults are read once; a bad value is a ConfigError of one line naming the variable.
import { describe, expect, it } from 'vitest';
import { ConfigError, readConfig } from '../api/config.ts';

function refusal(env: Record<string, string>): ConfigError {
  try {
    readConfig(env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error(`accepted ${JSON.stringify(env)}`);
}

describe('readConfig', () => {
  it('has working defaults with an empty environment', () => {
    const c = readConfig({});
    expect(c).toMatchObject({ port: 4321, host: '127.0.0.1', publicUrl: 'http://127.0.0.1:4321', seedDemo: undefined, timeZone: 'UTC', smtpUrl: undefined });
    expect(c.databaseUrl).toMatch(/data\/status\.db$/);
    // Written out from SPEC.md, not read from the code: the default is a copy of defaultSeverityPolicy, so comparing with it proves nothing.
    const everyone = { public: true, subscribers: true, stakeholders: true };
    expect(c.severityPolicy).toEqual({ SEV1: everyone, SEV2: everyone, SEV3: { public: false, subscribers: false, stakeholders: true }, SEV4: { public: false, subscribers: false, stakeholders: false } });
  });

  it('reads good values', () => {
    const c = readConfig({
      PORT: '8080',
      HOST: '0.0.0.0',
      DATA_DIR: '/tmp/status-data',
      PUBLIC_URL: 'https://status.example.com/',
      SMTP_URL: 'smtps://user:pass@mail.example.com:465',
      SEED_DEMO: 'false',
      TIME_ZONE: 'Europe/Berlin',
    });
    expect(c).toMatchObject({
      port: 8080,
      host: '0.0.0.0',
      dataDir: '/tmp/status-data',
      databaseUrl: '/tmp/status-data/status.db',
      publicUrl: 'https://status.example.com',
      smtpUrl: 'smtps://user:pass@mail.example.com:465',
      seedDemo: false,
      timeZone: 'Europe/Berlin',
    });
    expect(readConfig({ PORT: '0' }).port).toBe(0);
    expect(readConfig({ HOST: '0.0.0.0', PORT: '80' }).publicUrl).toBe('http://localhost:80');
  });

  it('reads SEED_DEMO in the usual spellings, and treats an empty value as unset', () => {
    for (const v of ['true', '1', 'yes', 'on']) expect(readConfig({ SEED_DEMO: v }).seedDemo).toBe(true);
    for (const v of ['false', '0', 'no', 'off']) expect(readConfig({ SEED_DEMO: v }).seedDemo).toBe(false);
    expect(readConfig({ SEED_DEMO: '', PORT: '' })).toMatchObject({ seedDemo: undefined, port: 4321 });
  });

  const bad: [string, string][] = [
    ['PORT', 'abc'],
    ['PORT', '-1'],
    ['PORT', '65536'],
    ['PORT', '80.5'],
    ['SMTP_URL', 'mail.example.com'],
    ['SMTP_URL', 'http://mail.example.com'],
    ['TIME_ZONE', 'Mars/Olympus_Mons'],
    ['TIME_ZONE', 'CEST+2'],
    ['SEED_DEMO', 'maybe'],
    ['SEED_DEMO', 'TRUE!'],
    ['PUBLIC_URL', 'status.example.com'],
    ['PUBLIC_URL', 'ftp://status.example.com'],
    ['SEVERITY_POLICY', 'SEV5:public'],
    ['SEVERITY_POLICY', 'SEV3:everyone'],
  ];

  it.each(bad)('refuses %s=%s with one line naming the variable', (name, value) => {
    const e = refusal({ [name]: value });
    expect(e.message).toContain(name);
    expect(e.message).not.toMatch(/[\r\n]/);
    expect(e.message.length).toBeLessThan(300);
    expect(e.message).toContain(value);
  });

  it('names the bad variable even when others are fine', () => {
    const e = refusal({ PORT: '8080', SMTP_URL: 'smtp://mail.example.com', TIME_ZONE: 'Nowhere/Land' });
    expect(e.message).toMatch(/^Configuration error: TIME_ZONE=/);
  });
});
