import { describe, expect, it } from 'vitest';
import {
  GatewaySettingsError,
  gatewaySettingKey,
  parseGatewaySettingPairs,
  parseGatewaySettings,
} from './gateway-settings.js';

describe('gateway settings', () => {
  it('parses and normalises key=value pairs', () => {
    expect(
      parseGatewaySettingPairs([
        'ratePerSecond=12.5',
        'maxparallel=8',
        'insecureTls=yes',
        'method=post',
        'smshfailstring=ERR',
        'idRegex=id=(\\d+)',
        'smssenddata={"a":"[message]"}',
      ]),
    ).toEqual({
      ratePerSecond: 12.5,
      maxParallel: 8,
      insecureTls: true,
      method: 'POST',
      smsfailstring: 'ERR',
      idRegex: 'id=(\\d+)',
      smssenddata: '{"a":"[message]"}',
    });
  });

  it.each([
    [{ maxParallel: '0' }, 'maxParallel: between 1 and 4096'],
    [{ maxParallel: '2.5' }, 'maxParallel: must be an integer'],
    [{ ratePerSecond: '-1' }, 'ratePerSecond: between 0 and 1000000'],
    [{ insecureTls: 'maybe' }, 'insecureTls: must be true or false'],
    [{ method: 'PUT' }, 'method: one of GET, POST'],
    [{ idRegex: '(' }, 'idRegex: invalid regex'],
    [{ colour: 'red' }, 'unknown gateway setting: colour'],
  ])('%j is refused', (raw, why) => {
    expect(() => parseGatewaySettings(raw)).toThrow(GatewaySettingsError);
    expect(() => parseGatewaySettings(raw)).toThrow(why);
  });

  it('an empty value removes a non-text setting', () => {
    expect(parseGatewaySettings({ ratePerSecond: '' })).toEqual({ ratePerSecond: undefined });
    expect(gatewaySettingKey('SMSHFAILSTRING')).toBe('smsfailstring');
    expect(() => parseGatewaySettingPairs(['novalue'])).toThrow('expected key=value');
  });
});
