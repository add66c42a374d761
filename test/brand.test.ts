// The brand settings at start-up: an accent that does not read is refused in one line; images are https URLs or files.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { contrast, darkBackground, lightBackground } from '../api/brand.ts';
import { ConfigError, readConfig } from '../api/config.ts';

const dir = mkdtempSync(join(tmpdir(), 'brand-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function refusal(env: Record<string, string>): string {
  try {
    readConfig(env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error(`accepted ${JSON.stringify(env)}`);
}

describe('BRAND_ACCENT', () => {
  it('refuses a colour below 4.5:1 against the light background, saying the ratio, in one line', () => {
    const line = refusal({ BRAND_ACCENT: '#ffcc00' });
    expect(line).toMatch(/^Configuration error: BRAND_ACCENT="#ffcc00" has a contrast of 1\.\d\d:1 against the page background #f7f7f5; .*at least 4\.5:1/);
    expect(line).not.toContain('\n');
    // Just under and just over the line.
    expect(refusal({ BRAND_ACCENT: '#7a7a7a' })).toContain('contrast of 4.');
    expect(readConfig({ BRAND_ACCENT: '#6e6e6e' }).brand.accent?.light).toBe('#6e6e6e');
    expect(refusal({ BRAND_ACCENT: 'purple' })).toContain('must be a hex colour');
  });

  it('derives a dark-theme shade that reads at 4.5:1 too, for any accepted colour', () => {
    for (const accent of ['#5b2a86', '#000000', '#1a56b8', '#b42318', '#0b6e4f', '#333']) {
      const { light, dark } = readConfig({ BRAND_ACCENT: accent }).brand.accent!;
      expect(contrast(light, lightBackground), accent).toBeGreaterThanOrEqual(4.5);
      expect(contrast(dark, darkBackground), accent).toBeGreaterThanOrEqual(4.5);
    }
  });
});

describe('BRAND_LOGO, BRAND_FAVICON, SUPPORT_URL, HOMEPAGE_URL', () => {
  it('takes an https URL or an image file, and refuses anything else in one line', () => {
    const logo = join(dir, 'logo.png');
    writeFileSync(logo, Buffer.from('89504e470d0a1a0a', 'hex'));
    expect(readConfig({ BRAND_LOGO: 'https://cdn.example.com/logo.svg' }).brand.logo).toEqual({ kind: 'url', url: 'https://cdn.example.com/logo.svg' });
    expect(readConfig({ BRAND_LOGO: logo }).brand.logo).toEqual({ kind: 'file', file: logo, path: 'brand/logo.png' });
    expect(readConfig({ BRAND_FAVICON: logo }).brand.favicon).toMatchObject({ path: 'brand/favicon.png' });
    expect(refusal({ BRAND_LOGO: 'http://cdn.example.com/logo.svg' })).toMatch(/^Configuration error: BRAND_LOGO=.* must be an https:\/\/ URL/);
    expect(refusal({ BRAND_LOGO: join(dir, 'missing.png') })).toContain('names no file');
    expect(refusal({ BRAND_FAVICON: join(dir, 'notes.txt') })).toContain('must be a .png');
    expect(refusal({ SUPPORT_URL: 'javascript:alert(1)' })).toMatch(/^Configuration error: SUPPORT_URL=/);
    expect(readConfig({ SUPPORT_URL: 'mailto:help@example.com' }).brand.supportUrl).toBe('mailto:help@example.com');
    expect(refusal({ HOMEPAGE_URL: 'ftp://example.com' })).toMatch(/^Configuration error: HOMEPAGE_URL=/);
  });
});
