import { describe, expect, it } from 'vitest';
import { defaultScrubUrl, looksSecret } from '../../src/scrub';

describe('defaultScrubUrl', () => {
  it('keeps ordinary URLs as they are', () => {
    for (const u of [
      'https://shop.example.com/orders/8123?page=2&sort=price',
      'https://shop.example.com/#/cart',
      'http://localhost:3000/',
      '/relative/path?q=shoes',
    ]) {
      expect(defaultScrubUrl(u)).toBe(u);
    }
  });

  it('redacts values of parameters named like secrets', () => {
    expect(defaultScrubUrl('https://a.example/cb?code=abc&state=xyz&page=1')).toBe('https://a.example/cb?code=redacted&state=redacted&page=1');
    expect(defaultScrubUrl('https://a.example/?access_token=t&apiKey=k&X-Amz-Signature=s')).toBe(
      'https://a.example/?access_token=redacted&apiKey=redacted&X-Amz-Signature=redacted',
    );
    expect(defaultScrubUrl('https://a.example/?password=hunter2')).toBe('https://a.example/?password=redacted');
  });

  it('redacts values that look like tokens or e-mails, whatever their name', () => {
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U';
    expect(defaultScrubUrl(`https://a.example/?t=${jwt}`)).toBe('https://a.example/?t=redacted');
    expect(defaultScrubUrl('https://a.example/?u=9f86d081884c7d659a2feaa0c55ad015a3bf4f1b')).toBe('https://a.example/?u=redacted');
    expect(defaultScrubUrl('https://a.example/?to=jane.doe%40example.com&x=1')).toBe('https://a.example/?to=redacted&x=1');
    expect(defaultScrubUrl('https://a.example/?to=jane@example.com')).toBe('https://a.example/?to=redacted');
  });

  it('removes credentials from the authority and e-mails from the path', () => {
    expect(defaultScrubUrl('https://user:pw@a.example/x')).toBe('https://a.example/x');
    expect(defaultScrubUrl('https://a.example/users/jane@example.com/profile')).toBe('https://a.example/users/redacted/profile');
  });

  it('scrubs fragments that carry parameters, keeps those that are routes', () => {
    expect(defaultScrubUrl('https://a.example/cb#access_token=abc&expires_in=3600')).toBe('https://a.example/cb#access_token=redacted&expires_in=3600');
    expect(defaultScrubUrl('https://a.example/#/orders/1?token=abc&tab=2')).toBe('https://a.example/#/orders/1?token=redacted&tab=2');
    expect(defaultScrubUrl('https://a.example/#/orders/12')).toBe('https://a.example/#/orders/12');
  });

  it('tells secrets from words', () => {
    expect(looksSecret('summer-sale-2024')).toBe(true); // 16 chars mixing digits: redacted, a safe error
    expect(looksSecret('electronics')).toBe(false);
    expect(looksSecret('42')).toBe(false);
    expect(looksSecret('AKIAIOSFODNN7EXAMPLE')).toBe(true);
  });
});
