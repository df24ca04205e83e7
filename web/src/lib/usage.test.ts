import { describe, expect, it } from 'vitest';
import { fmtChange, usageColumns } from './usageapi';

describe('usage', () => {
  it('puts each signal in its own column, zero where it sent nothing in a step', () => {
    const cols = usageColumns(
      [
        { t: 2e9, signal: 'spans', records: 1, bytes: 10 },
        { t: 1e9, signal: 'spans', records: 1, bytes: 5 },
        { t: 2e9, signal: 'logs', records: 1, bytes: 7 },
      ],
      ['spans', 'logs'],
    );
    expect(cols).toEqual([
      [1, 2],
      [5, 10],
      [0, 7],
    ]);
  });

  it('writes changes with their sign, and "new" without a previous period', () => {
    expect(fmtChange(0.25)).toBe('+25%');
    expect(fmtChange(-0.1)).toBe('−10%');
    expect(fmtChange(0)).toBe('±0%');
    expect(fmtChange(null)).toBe('new');
  });
});
