/**
 * SMPP command_status -> what the transport does, as one data table (Jasmin/Kannel practice; the
 * split between temporary and permanent is our policy, see the shared reference smpp.md §8).
 */

export type SmppStatusClass =
  /** 0: accepted. */
  | 'ok'
  /** Over the rate limit: slow the whole gateway down and resend. */
  | 'throttled'
  /** SMSC queue full: slow the whole gateway down and resend later. */
  | 'queue-full'
  /** Worth resending after a backoff, a limited number of times. */
  | 'temporary'
  /** The session is in the wrong state: rebind, then resend. */
  | 'session'
  /** The bind itself was refused: reconnect slowly, never hammer. */
  | 'bind'
  /** Resending the same PDU will fail again: fail the message with this reason. */
  | 'permanent';

export interface SmppStatusInfo {
  code: number;
  name: string;
  class: SmppStatusClass;
  description: string;
}

type Row = readonly [code: number, name: string, cls: SmppStatusClass, description: string];

const ROWS: readonly Row[] = [
  [0x00, 'ESME_ROK', 'ok', 'no error'],
  [0x01, 'ESME_RINVMSGLEN', 'permanent', 'message length is invalid'],
  [0x02, 'ESME_RINVCMDLEN', 'permanent', 'command length is invalid'],
  [0x03, 'ESME_RINVCMDID', 'permanent', 'invalid command id'],
  [0x04, 'ESME_RINVBNDSTS', 'session', 'incorrect bind status for this command'],
  [0x05, 'ESME_RALYBND', 'session', 'ESME already in bound state'],
  [0x06, 'ESME_RINVPRTFLG', 'permanent', 'invalid priority flag'],
  [0x07, 'ESME_RINVREGDLVFLG', 'permanent', 'invalid registered delivery flag'],
  [0x08, 'ESME_RSYSERR', 'temporary', 'system error'],
  [0x0a, 'ESME_RINVSRCADR', 'permanent', 'invalid source address'],
  [0x0b, 'ESME_RINVDSTADR', 'permanent', 'invalid destination address'],
  [0x0c, 'ESME_RINVMSGID', 'permanent', 'message id is invalid'],
  [0x0d, 'ESME_RBINDFAIL', 'bind', 'bind failed'],
  [0x0e, 'ESME_RINVPASWD', 'bind', 'invalid password'],
  [0x0f, 'ESME_RINVSYSID', 'bind', 'invalid system id'],
  [0x11, 'ESME_RCANCELFAIL', 'permanent', 'cancel_sm failed'],
  [0x13, 'ESME_RREPLACEFAIL', 'permanent', 'replace_sm failed'],
  [0x14, 'ESME_RMSGQFUL', 'queue-full', 'message queue full'],
  [0x15, 'ESME_RINVSERTYP', 'permanent', 'invalid service type'],
  [0x33, 'ESME_RINVNUMDESTS', 'permanent', 'invalid number of destinations'],
  [0x34, 'ESME_RINVDLNAME', 'permanent', 'invalid distribution list name'],
  [0x40, 'ESME_RINVDESTFLAG', 'permanent', 'invalid destination flag'],
  [0x42, 'ESME_RINVSUBREP', 'permanent', 'invalid submit with replace request'],
  [0x43, 'ESME_RINVESMCLASS', 'permanent', 'invalid esm_class field data'],
  [0x44, 'ESME_RCNTSUBDL', 'permanent', 'cannot submit to distribution list'],
  [0x45, 'ESME_RSUBMITFAIL', 'permanent', 'submit_sm or submit_multi failed'],
  [0x48, 'ESME_RINVSRCTON', 'permanent', 'invalid source address TON'],
  [0x49, 'ESME_RINVSRCNPI', 'permanent', 'invalid source address NPI'],
  [0x50, 'ESME_RINVDSTTON', 'permanent', 'invalid destination address TON'],
  [0x51, 'ESME_RINVDSTNPI', 'permanent', 'invalid destination address NPI'],
  [0x53, 'ESME_RINVSYSTYP', 'permanent', 'invalid system_type field'],
  [0x54, 'ESME_RINVREPFLAG', 'permanent', 'invalid replace_if_present flag'],
  [0x55, 'ESME_RINVNUMMSGS', 'permanent', 'invalid number of messages'],
  [0x58, 'ESME_RTHROTTLED', 'throttled', 'throttling error: the ESME exceeded its message limits'],
  [0x61, 'ESME_RINVSCHED', 'permanent', 'invalid scheduled delivery time'],
  [0x62, 'ESME_RINVEXPIRY', 'permanent', 'invalid message validity period'],
  [0x63, 'ESME_RINVDFTMSGID', 'permanent', 'predefined message invalid or not found'],
  [0x64, 'ESME_RX_T_APPN', 'temporary', 'ESME receiver temporary application error'],
  [0x65, 'ESME_RX_P_APPN', 'permanent', 'ESME receiver permanent application error'],
  [0x66, 'ESME_RX_R_APPN', 'permanent', 'ESME receiver reject message error'],
  [0x67, 'ESME_RQUERYFAIL', 'permanent', 'query_sm failed'],
  [0xc0, 'ESME_RINVOPTPARSTREAM', 'permanent', 'error in the optional part of the PDU body'],
  [0xc1, 'ESME_ROPTPARNOTALLWD', 'permanent', 'optional parameter not allowed'],
  [0xc2, 'ESME_RINVPARLEN', 'permanent', 'invalid parameter length'],
  [0xc3, 'ESME_RMISSINGOPTPARAM', 'permanent', 'expected optional parameter missing'],
  [0xc4, 'ESME_RINVOPTPARAMVAL', 'permanent', 'invalid optional parameter value'],
  [0xfe, 'ESME_RDELIVERYFAILURE', 'permanent', 'delivery failure'],
  [0xff, 'ESME_RUNKNOWNERR', 'temporary', 'unknown error'],
  [0x100, 'ESME_RSERTYPUNAUTH', 'permanent', 'service type not authorised (v5.0)'],
  [0x101, 'ESME_RPROHIBITED', 'permanent', 'operation prohibited (v5.0)'],
  [0x102, 'ESME_RSERTYPUNAVAIL', 'permanent', 'service type unavailable (v5.0)'],
  [0x103, 'ESME_RSERTYPDENIED', 'permanent', 'service type denied (v5.0)'],
  [0x104, 'ESME_RINVDCS', 'permanent', 'invalid data coding scheme (v5.0)'],
];

export const SMPP_STATUS_TABLE: ReadonlyMap<number, SmppStatusInfo> = new Map(
  ROWS.map(([code, name, cls, description]) => [code, { code, name, class: cls, description }]),
);

export function smppStatusHex(code: number): string {
  return `0x${(code >>> 0).toString(16).toUpperCase().padStart(8, '0')}`;
}

/**
 * The policy for any status. Vendor codes 0x400-0x4FF (often no credit, blacklisted, no route)
 * and codes not in the table are permanent: resending an unknown refusal just repeats it.
 */
export function smppStatus(code: number): SmppStatusInfo {
  const known = SMPP_STATUS_TABLE.get(code);
  if (known) return known;
  const vendor = code >= 0x400 && code <= 0x4ff;
  return {
    code,
    name: vendor ? `VENDOR_${smppStatusHex(code)}` : smppStatusHex(code),
    class: 'permanent',
    description: vendor ? 'vendor-specific error' : 'unknown command_status',
  };
}

/** `ESME_RTHROTTLED (0x00000058)`: what goes into a failed message's reason. */
export function describeSmppStatus(code: number): string {
  const s = smppStatus(code);
  return s.name.startsWith('0x') ? s.name : `${s.name} (${smppStatusHex(code)})`;
}
