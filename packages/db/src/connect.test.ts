import { describe, expect, it } from 'vitest';
import { parseDatabaseUrl, redactUrl } from './connect.js';

describe('parseDatabaseUrl', () => {
  it('parses a full URL with encoded credentials', () => {
    expect(parseDatabaseUrl('mysql://sms%40app:p%3Ass@db.local:3307/smsfleet')).toEqual({
      host: 'db.local',
      port: 3307,
      user: 'sms@app',
      password: 'p:ss',
      database: 'smsfleet',
    });
  });
  it('fills defaults', () => {
    expect(parseDatabaseUrl('mysql://127.0.0.1')).toEqual({
      host: '127.0.0.1',
      port: 3306,
      user: 'root',
      password: '',
      database: '',
    });
  });
  it('rejects other schemes, bad names and garbage without echoing the password', () => {
    expect(() => parseDatabaseUrl('postgres://x/y')).toThrow(/mysql:\/\//);
    expect(() => parseDatabaseUrl('mysql://h/bad-name;drop')).toThrow(/invalid database name/);
    expect(() => parseDatabaseUrl('not a url')).toThrow(/invalid database URL/);
  });
  it('redacts passwords', () => {
    expect(redactUrl('mysql://u:secret@h:1/d')).toBe('mysql://u:***@h:1/d');
  });
});
