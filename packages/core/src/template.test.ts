import { describe, expect, it } from 'vitest';
import { compileTemplate, type TemplateEscape, type TemplateValues } from './template.js';

const values: TemplateValues = {
  fromid: 17,
  fromnum: 'ACME',
  tonum: '+36201234567',
  message: 'Hi & bye = #1 ok?',
  smscounter: 3,
  smsid: '0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2b',
  gatewayid: 4,
  clientip: '10.0.0.7',
};

describe('compileTemplate.render', () => {
  it.each<[string, string, TemplateEscape, Partial<TemplateValues>, string]>([
    [
      'url escape of & = # space',
      'http://gw/send?to=[tonum]&text=[message]',
      'url',
      {},
      'http://gw/send?to=%2B36201234567&text=Hi%20%26%20bye%20%3D%20%231%20ok%3F',
    ],
    [
      'unicode message as UTF-8',
      '?m=[message]',
      'url',
      { message: 'Árvíztűrő 😀' },
      '?m=%C3%81rv%C3%ADzt%C5%B1r%C5%91%20%F0%9F%98%80',
    ],
    ['lone surrogate does not throw', '?m=[message]', 'url', { message: 'a\ud800' }, '?m=a%EF%BF%BD'],
    ['none leaves values raw', '[fromnum]:[message]', 'none', {}, 'ACME:Hi & bye = #1 ok?'],
    [
      'upper- and mixed-case keywords',
      '[TONUM]/[Message]/[SmsId]',
      'none',
      {},
      '+36201234567/Hi & bye = #1 ok?/0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2b',
    ],
    ['repeated keywords', '[tonum],[tonum],[tonum]', 'none', {}, '+36201234567,+36201234567,+36201234567'],
    ['numbers are stringified', '[fromid]-[gatewayid]-[smscounter]-[clientip]', 'url', {}, '17-4-3-10.0.0.7'],
    [
      'unknown bracket words stay',
      '[foo] [tonum] [ message] [] [tonum',
      'none',
      {},
      '[foo] +36201234567 [ message] [] [tonum',
    ],
    ['nested bracket before keyword', '[[tonum]]', 'none', {}, '[+36201234567]'],
    [
      'json escape without quotes',
      '{"to":"[tonum]","text":"[message]"}',
      'json',
      { message: 'say "hi"\n\\ ő 😀' },
      '{"to":"+36201234567","text":"say \\"hi\\"\\n\\\\ ő 😀"}',
    ],
    [
      'xml escape',
      '<sms><text>[message]</text></sms>',
      'xml',
      { message: `<b> & "q" 'a'` },
      '<sms><text>&lt;b&gt; &amp; &quot;q&quot; &apos;a&apos;</text></sms>',
    ],
    ['literal text is never escaped', 'a b&c=[fromnum]', 'url', { fromnum: 'X Y' }, 'a b&c=X%20Y'],
    ['no keywords', 'https://example.com/ping', 'url', {}, 'https://example.com/ping'],
    ['empty template', '', 'url', {}, ''],
  ])('%s', (_name, template, escape, override, expected) => {
    expect(compileTemplate(template).render({ ...values, ...override }, escape)).toBe(expected);
  });
});

describe('compileTemplate metadata', () => {
  it.each<[string, string[]]>([
    ['http://x/?a=[tonum]&b=[MESSAGE]&c=[tonum]', ['tonum', 'message']],
    [
      '[smsid][clientip][fromid][fromnum][gatewayid][smscounter]',
      ['smsid', 'clientip', 'fromid', 'fromnum', 'gatewayid', 'smscounter'],
    ],
    ['[nothing]', []],
  ])('keywords of %s', (template, keywords) => {
    expect(compileTemplate(template).keywords).toEqual(keywords);
  });
});

describe('SQL placeholders', () => {
  it.each<[string, string, string[], string[] | undefined, string]>([
    [
      'resolved in order and escaped',
      'http://gw/?key={SELECT apikey FROM keys WHERE id=[gatewayid]}&to=[tonum]&s={ select sender from x }',
      ['SELECT apikey FROM keys WHERE id=[gatewayid]', 'select sender from x'],
      ['k&1', 'A B'],
      'http://gw/?key=k%261&to=%2B36201234567&s=A%20B',
    ],
    ['absent values render empty', 'a={SELECT 1}b', ['SELECT 1'], undefined, 'a=b'],
    ['too few values render empty', '{SELECT 1}|{SELECT 2}', ['SELECT 1', 'SELECT 2'], ['x'], 'x|'],
    [
      'nested braces and quoted braces',
      "{SELECT '}' || f('{a}') FROM t}!",
      ["SELECT '}' || f('{a}') FROM t"],
      ['v'],
      'v!',
    ],
    ['JSON body braces are not SQL', '{"to":"[tonum]"}', [], undefined, '{"to":"%2B36201234567"}'],
    ['unterminated stays literal', '{SELECT x', [], undefined, '{SELECT x'],
    ['SELECT must be a word', '{selected}', [], undefined, '{selected}'],
  ])('%s', (_name, template, sql, sqlValues, expected) => {
    const t = compileTemplate(template);
    expect(t.sql).toEqual(sql);
    expect(t.parts.filter((p) => p.kind === 'sql').map((p) => p.sql)).toEqual(sql);
    expect(t.render(values, 'url', sqlValues)).toBe(expected);
  });
});
