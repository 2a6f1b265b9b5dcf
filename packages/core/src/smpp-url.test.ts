import { describe, expect, it } from 'vitest';
import { checkSmppUrl, isSmppUrl, parseSmppUrl, SmppConfigError, validateSmppTime } from './smpp-url.js';
import { BadRequestError } from './errors.js';

const base = 'SMPP;server=11.22.33.44;username=smppuser;password=xxx';

describe('parseSmppUrl: the seed examples', () => {
  it('basic', () => {
    const c = parseSmppUrl('SMPP;server=11.22.33.44;username=smppuser;password=xxx;serverport=2775');
    expect(c).toMatchObject({
      host: '11.22.33.44',
      systemId: 'smppuser',
      password: 'xxx',
      port: 2775,
      version: 34,
      interfaceVersion: 0x34,
      bindMode: 'transmitter',
      priorityFlag: 1,
      sourceNpi: 1,
      timeoutSec: 60,
      dataCoding: undefined,
    });
  });
  it('advanced', () => {
    const c = parseSmppUrl(
      'SMPP;server=55.66.77.88;username=smppuser;password=xxx;serverport=2785;version=50;timeout=30;msgpriority=3;servicetype=CMT;SourceTON=1',
    );
    expect(c).toMatchObject({
      port: 2785,
      version: 50,
      interfaceVersion: 0x50,
      timeoutSec: 30,
      priorityFlag: 3,
      serviceType: 'CMT',
      sourceTon: 1,
    });
  });
});

describe('parseSmppUrl: every parameter', () => {
  const cases: Array<[string, Record<string, unknown>]> = [
    ['version=33', { interfaceVersion: 0x33 }],
    ['secure=1', { secure: true }],
    ['systemtype=VMA', { systemType: 'VMA' }],
    ['servicetype=6', { serviceType: 'USSD' }],
    ['servicetype=0', { serviceType: '' }],
    ['msgpriority=-1', { priorityFlag: 0 }],
    ['msgexpire=240101120000004+', { validityPeriod: '240101120000004+' }],
    ['msgexpire=000001000000000R', { validityPeriod: '000001000000000R' }],
    ['timeout=5;AbsoluteTimeout=true', { timeoutSec: 5, absoluteTimeout: true }],
    ['recipients=3611;3622;+3633', { recipients: ['3611', '3622', '+3633'] }],
    ['recipients=3611,3622', { recipients: ['3611', '3622'] }],
    ['recipienttype=1;recipients=list', { recipientType: 1 }],
    ['isdata=1;HexString=0aFF', { isData: true, hexString: '0aFF' }],
    [
      'extraconfig=SenderAddress=MyBrand;SourceTON=5;SourceNPI=0',
      { senderAddress: 'MyBrand', sourceTon: 5, sourceNpi: 0 },
    ],
    ['DestinationTON=1;DestinationNPI=18', { destTon: 1, destNpi: 18 }],
    ['DataCoding=8', { dataCoding: 8 }],
    ['DataCoding=3', { dataCoding: 3 }],
    ['DataCoding=0', { dataCoding: undefined }],
    ['InBufferSize=65536;OutBufferSize=1024', { inBufferSize: 65536, outBufferSize: 1024 }],
    ['bind=transceiver;binds=3;window=50', { bindMode: 'transceiver', binds: 3, window: 50 }],
    ['bind=tx+rx', { bindMode: 'transmitter+receiver' }],
    ['concat=sar', { concat: 'sar' }],
    ['concat=payload;charset=latin1', { concat: 'payload', charset: 'latin1' }],
    [
      'mps=100;enquirelink=10;responsetimeout=5;registereddelivery=0',
      { mps: 100, enquireLinkSec: 10, responseTimeoutSec: 5, registeredDelivery: 0 },
    ],
    ['sslaccept=ANY', { tls: { acceptAnyCertificate: true } }],
    ['sslaccept=-', { tls: { acceptAnyCertificate: false } }],
    [
      'sslstoretype=4;sslcertstore=/etc/smpp/client.pem;sslpwd=p',
      { tls: { acceptAnyCertificate: false, clientPemFile: '/etc/smpp/client.pem', passphrase: 'p' } },
    ],
    [
      'sslstoretype=2;sslcertstore=/etc/smpp/c.pfx',
      { tls: { acceptAnyCertificate: false, pfxFile: '/etc/smpp/c.pfx' } },
    ],
  ];
  it.each(cases)('%s', (extra, expected) => {
    expect(parseSmppUrl(`${base};${extra}`)).toMatchObject(expected);
  });

  it('keys are case-insensitive and empty pairs are ignored', () => {
    expect(parseSmppUrl('smpp;SERVER=h;UserName=u;;SourceTon=2;')).toMatchObject({
      host: 'h',
      systemId: 'u',
      sourceTon: 2,
    });
  });

  it('wraps a bare base64 certificate into PEM', () => {
    const c = parseSmppUrl(`${base};sslencodig=${'A'.repeat(70)}==`);
    expect(c.tls.caPem).toMatch(/^-----BEGIN CERTIFICATE-----\nA{64}\nA{6}==\n-----END CERTIFICATE-----\n$/);
  });
});

describe('parseSmppUrl: clear errors at save time', () => {
  const bad: Array<[string, RegExp]> = [
    ['SMPP;username=u', /server is required/],
    ['SMPP;server=h', /username is required/],
    [`${base};colour=blue`, /unknown SMPP parameter "colour"/],
    [`${base};serverport=70000`, /serverport must be between 1 and 65535/],
    [`${base};serverport=abc`, /serverport must be an integer/],
    [`${base};version=35`, /version must be one of 33, 34, 50/],
    [`${base};SourceTON=7`, /SourceTON must be between 0 and 6/],
    [`${base};SourceNPI=2`, /SourceNPI must be one of 0, 1, 3/],
    [`${base};msgpriority=4`, /msgpriority must be between -1 and 3/],
    [`${base};servicetype=FOO`, /servicetype must be 0-7 or one of CMT/],
    [`${base};msgexpire=2401011200`, /msgexpire must be YYMMDDhhmmsstnnp/],
    [`${base};msgexpire=241301120000000+`, /msgexpire has month 13/],
    [`${base};msgexpire=240101120000049+`, /quarter hours/],
    [`${base};HexString=abc`, /HexString must be an even-length hex string/],
    [`${base};DataCoding=5`, /DataCoding 5 cannot carry/],
    [`${base};isdata=maybe`, /isdata must be 1\/0/],
    [`${base};password=toolongpw`, /password must be at most 8 characters/],
    [`${base};systemtype=${'x'.repeat(13)}`, /systemtype must be at most 12/],
    [`${base};recipients=${Array.from({ length: 256 }, (_, i) => i).join(';')}`, /at most 255/],
    [`${base};isdata=1;recipients=1;2`, /isdata supports only one recipient/],
    [`${base};version=33;bind=transceiver`, /v3.3 has no transceiver/],
    [`${base};version=33;concat=sar`, /v3.3 has no TLVs/],
    [`${base};bind=both`, /bind must be transmitter, transceiver/],
    [`${base};window=0`, /window must be between 1 and 1000/],
    [`${base};junk`, /"junk" is not a key=value pair/],
    [`${base};sslaccept=AB:CD`, /sslaccept must be ANY/],
    [`${base};sslcertstore=MY`, /Windows certificate store/],
    [`${base};sslstoretype=4`, /must name the PEM file/],
    ['HTTP;server=x', /must start with SMPP;/],
  ];
  it.each(bad)('%s', (url, re) => {
    expect(() => parseSmppUrl(url)).toThrow(re);
    expect(checkSmppUrl(url)).toMatch(re);
  });

  it('is a BadRequestError and never echoes the password', () => {
    try {
      parseSmppUrl('SMPP;server=h;username=u;password=s3cr3t;serverport=x');
      expect.fail('should throw');
    } catch (err) {
      expect(err).toBeInstanceOf(SmppConfigError);
      expect(err).toBeInstanceOf(BadRequestError);
      expect((err as Error).message).not.toContain('s3cr3t');
    }
  });
});

describe('parseSmppUrl: smpp_* global keys and smpp_allparameters', () => {
  const snapshotLike = {
    smsurl: 'SMPP',
    smpp_allparameters: '',
    smpp_server: 'global-host',
    smpp_username: 'gu',
    smpp_password: 'gp',
    smpp_serverport: 2775,
    smpp_version: 34,
    smpp_secure: false,
    smpp_servicetype: 0,
    smpp_msgpriority: 1,
    smpp_sourceton: 0,
    smpp_sourcenpi: 1,
    smpp_datacoding: 0,
    smpp_extraconfig: '',
    smpp_sslstoretype: 0,
    smpp_timeout: 60,
    smpp_absolutetimeout: false,
    smpp_hexstring: '',
  };
  it('a bare SMPP URL takes everything from the keys; DataCoding 0 there stays "auto"', () => {
    expect(parseSmppUrl('SMPP', { globals: snapshotLike })).toMatchObject({
      host: 'global-host',
      systemId: 'gu',
      password: 'gp',
      dataCoding: undefined,
    });
  });
  it('precedence: keys < smpp_allparameters < URL', () => {
    const g = { ...snapshotLike, smpp_allparameters: 'SMPP;server=all-host;serverport=2800;SourceTON=5' };
    const c = parseSmppUrl('SMPP;serverport=2900', { globals: g });
    expect(c).toMatchObject({ host: 'all-host', port: 2900, sourceTon: 5, systemId: 'gu' });
  });
  it('smpp_extraconfig pairs apply, and errors name their source', () => {
    expect(
      parseSmppUrl('SMPP', { globals: { ...snapshotLike, smpp_extraconfig: 'SourceTON=5;SenderAddress=B' } }),
    ).toMatchObject({ sourceTon: 5, senderAddress: 'B' });
    expect(() =>
      parseSmppUrl('SMPP', { globals: { ...snapshotLike, smpp_allparameters: 'SMPP;foo=1' } }),
    ).toThrow(/unknown SMPP parameter "foo" \(from smpp_allparameters\)/);
  });
  it('isSmppUrl', () => {
    expect(['SMPP', 'smpp;server=x', ' SMPP;'].map(isSmppUrl)).toEqual([true, true, true]);
    expect(['https://x', 'SMPPX;', '/bin/send'].map(isSmppUrl)).toEqual([false, false, false]);
  });
  it('validateSmppTime accepts Feb 29 and empty', () => {
    expect(validateSmppTime('msgexpire', '240229235959900-')).toBe('240229235959900-');
    expect(validateSmppTime('msgexpire', '')).toBe('');
  });
});
