import { describe, expect, it } from 'vitest';
import { newSmsId } from './smsid.js';

describe('newSmsId', () => {
  it('is a 36-char UUID v7', () => {
    expect(newSmsId()).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
  it('is unique and time-ordered', () => {
    const ids = Array.from({ length: 1000 }, () => newSmsId());
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
  });
});
