import { describe, expect, it } from 'vitest';
import { describeSmppStatus, smppStatus, smppStatusHex, SMPP_STATUS_TABLE } from './smpp-status.js';

describe('command_status policy table', () => {
  const cases: Array<[number, string, string]> = [
    [0x00, 'ESME_ROK', 'ok'],
    [0x58, 'ESME_RTHROTTLED', 'throttled'],
    [0x14, 'ESME_RMSGQFUL', 'queue-full'],
    [0x08, 'ESME_RSYSERR', 'temporary'],
    [0x64, 'ESME_RX_T_APPN', 'temporary'],
    [0xff, 'ESME_RUNKNOWNERR', 'temporary'],
    [0x04, 'ESME_RINVBNDSTS', 'session'],
    [0x05, 'ESME_RALYBND', 'session'],
    [0x0d, 'ESME_RBINDFAIL', 'bind'],
    [0x0e, 'ESME_RINVPASWD', 'bind'],
    [0x0f, 'ESME_RINVSYSID', 'bind'],
    [0x0b, 'ESME_RINVDSTADR', 'permanent'],
    [0x0a, 'ESME_RINVSRCADR', 'permanent'],
    [0x48, 'ESME_RINVSRCTON', 'permanent'],
    [0x51, 'ESME_RINVDSTNPI', 'permanent'],
    [0x01, 'ESME_RINVMSGLEN', 'permanent'],
    [0x45, 'ESME_RSUBMITFAIL', 'permanent'],
    [0x62, 'ESME_RINVEXPIRY', 'permanent'],
    [0xc4, 'ESME_RINVOPTPARAMVAL', 'permanent'],
    [0x104, 'ESME_RINVDCS', 'permanent'],
  ];
  it.each(cases)('0x%s is %s, %s', (code, name, cls) => {
    expect(smppStatus(code)).toMatchObject({ code, name, class: cls });
  });
  it('vendor-specific and unknown codes are permanent with a readable name', () => {
    expect(smppStatus(0x401)).toMatchObject({ name: 'VENDOR_0x00000401', class: 'permanent' });
    expect(smppStatus(0x999)).toMatchObject({ name: '0x00000999', class: 'permanent' });
  });
  it('describes a code for a failure reason', () => {
    expect(describeSmppStatus(0x58)).toBe('ESME_RTHROTTLED (0x00000058)');
    expect(describeSmppStatus(0x999)).toBe('0x00000999');
    expect(smppStatusHex(0x80000000)).toBe('0x80000000');
  });
  it('has unique names', () => {
    const names = [...SMPP_STATUS_TABLE.values()].map((s) => s.name);
    expect(new Set(names).size).toBe(names.length);
  });
});
