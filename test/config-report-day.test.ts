// REPORT_DAY: the day of the month the reliability briefing goes, validated at start-up with one clear line.
import { describe, expect, it } from 'vitest';
import { ConfigError, readConfig } from '../api/config.ts';

describe('REPORT_DAY', () => {
  it('defaults to the 1st and takes 0 (never) to 28', () => {
    expect(readConfig({}).reportDay).toBe(1);
    expect(readConfig({ REPORT_DAY: '0' }).reportDay).toBe(0);
    expect(readConfig({ REPORT_DAY: '28' }).reportDay).toBe(28);
  });

  it('refuses a day not every month has, or not a day at all, naming the variable', () => {
    for (const value of ['29', '31', '-1', 'first', '1.5']) {
      expect(() => readConfig({ REPORT_DAY: value }), value).toThrow(ConfigError);
      expect(() => readConfig({ REPORT_DAY: value }), value).toThrow(/^Configuration error: REPORT_DAY=.* must be a day of the month from 1 to 28/);
    }
  });
});
