/**
 * An answer's bytes are read in their own encoding (charset.ts): a BOM, else the
 * Content-Type's charset, else for XML its declaration's encoding, else UTF-8; a label
 * the platform does not know is passed over.
 */
import { describe, expect, it } from 'vitest';
import { answerEncoding, answerText, charsetParameter, xmlDeclaredEncoding } from '../../src/delivery/charset.js';
import { parseResponseBody } from '../../src/delivery/response.js';

const R = '\uFFFD';
const cp1251 = (text: string) => Buffer.from(new Uint8Array([...text].map((c) => (c >= 'А' && c <= 'я' ? c.charCodeAt(0) - 0x350 : c.charCodeAt(0)))));
const latin1 = (text: string) => Buffer.from(text, 'latin1');
const utf8 = (text: string) => Buffer.from(text, 'utf8');
const utf16le = (text: string) => Buffer.from(text, 'utf16le');
const bom = (bytes: number[], body: Buffer) => Buffer.concat([Buffer.from(bytes), body]);
const decl1251 = '<?xml version="1.0" encoding="windows-1251"?>';

describe('answerText: content types × bodies', () => {
  it.each([
    // the Content-Type's charset
    ['application/json; charset=iso-8859-1', latin1('{"name":"é"}'), '{"name":"é"}', 'windows-1252'],
    ['application/json; charset="ISO-8859-1"', latin1('{"name":"é"}'), '{"name":"é"}', 'windows-1252'],
    ['text/plain;charset=windows-1251', cp1251('Привет'), 'Привет', 'windows-1251'],
    ['text/plain; format=flowed; charset = cp1251', cp1251('Привет'), 'Привет', 'windows-1251'],
    ['text/plain; charset=koi8-r', Buffer.from([0xf0, 0xd2, 0xc9, 0xd7, 0xc5, 0xd4]), 'Привет', 'koi8-r'],
    ['text/plain; charset=utf-16le', utf16le('Привет 😀'), 'Привет 😀', 'utf-16le'],
    ['application/json; charset=utf-8', utf8('{"a":"é"}'), '{"a":"é"}', 'utf-8'],
    // a charset the platform does not know, or refuses: UTF-8, never an error
    ['application/json; charset=no-such-charset', utf8('"é"'), '"é"', 'utf-8'],
    ['application/json; charset=iso-2022-kr', utf8('"é"'), '"é"', 'utf-8'],
    ['application/json; charset=x-user-defined', utf8('"é"'), '"é"', 'utf-8'],
    ['application/json; charset=', utf8('"é"'), '"é"', 'utf-8'],
    ['application/json; charset=unknown', latin1('"é"'), `"${R}"`, 'utf-8'],
    // XML: the declaration's encoding when the Content-Type names none
    ['text/xml', cp1251(`${decl1251}<reply><result>Доставлено</result></reply>`), `${decl1251}<reply><result>Доставлено</result></reply>`, 'windows-1251'],
    ['application/soap+xml', cp1251(`<?xml version='1.0' encoding='CP1251' standalone='yes'?><a>Да</a>`), `<?xml version='1.0' encoding='CP1251' standalone='yes'?><a>Да</a>`, 'windows-1251'],
    ['text/xml; charset=', cp1251(`\r\n  ${decl1251}<a>Да</a>`), `\r\n  ${decl1251}<a>Да</a>`, 'windows-1251'],
    ['text/plain', cp1251(`${decl1251}<a>Да</a>`), `${decl1251}<a>Да</a>`, 'windows-1251'],
    [null, cp1251(`${decl1251}<a>Да</a>`), `${decl1251}<a>Да</a>`, 'windows-1251'],
    // ...but the Content-Type's charset first
    ['text/xml; charset=utf-8', utf8(`${decl1251}<a>Да</a>`), `${decl1251}<a>Да</a>`, 'utf-8'],
    // ...unless it says utf-8 and the bytes are not: a server's default charset beside a script's windows-1251 XML
    ['text/xml; charset=utf-8', cp1251(`${decl1251}<reply><result>Доставлено</result></reply>`), `${decl1251}<reply><result>Доставлено</result></reply>`, 'windows-1251'],
    ['application/xml;charset=UTF-8', cp1251(`\n${decl1251}<a>Да</a>`), `\n${decl1251}<a>Да</a>`, 'windows-1251'],
    ['text/xml; charset=utf-8', cp1251('<?xml version="1.0"?><a>Да</a>'), `<?xml version="1.0"?><a>${R}${R}</a>`, 'utf-8'],
    ['text/plain; charset=utf-8', cp1251(`<a>Да</a>`), `<a>${R}${R}</a>`, 'utf-8'],
    ['text/xml; charset=koi8-r', Buffer.concat([Buffer.from(decl1251), Buffer.from([0xf0, 0xd2])]), `${decl1251}Пр`, 'koi8-r'],
    // a declaration that is not at the start, or names an unknown or a UTF-16 encoding: UTF-8
    ['text/plain', utf8(` ${decl1251}<a>Да</a>`), ` ${decl1251}<a>Да</a>`, 'utf-8'],
    ['text/xml', utf8('<?xml version="1.0" encoding="bogus"?><a>Да</a>'), '<?xml version="1.0" encoding="bogus"?><a>Да</a>', 'utf-8'],
    ['text/xml', utf8('<?xml version="1.0" encoding="UTF-16"?><a>Да</a>'), '<?xml version="1.0" encoding="UTF-16"?><a>Да</a>', 'utf-8'],
    ['text/xml', utf8('<?xml version="1.0"?><a>Да</a>'), '<?xml version="1.0"?><a>Да</a>', 'utf-8'],
    ['application/json', utf8('{"x":"<?xml encoding=\\"windows-1251\\"?>"}'), '{"x":"<?xml encoding=\\"windows-1251\\"?>"}', 'utf-8'],
    // a byte order mark wins over any label, and is not part of the text
    ['application/json', bom([0xef, 0xbb, 0xbf], utf8('{"a":"é"}')), '{"a":"é"}', 'utf-8'],
    ['application/json; charset=windows-1251', bom([0xef, 0xbb, 0xbf], utf8('"Да"')), '"Да"', 'utf-8'],
    ['text/xml', bom([0xff, 0xfe], utf16le('<?xml version="1.0" encoding="UTF-16"?><a>Да</a>')), '<?xml version="1.0" encoding="UTF-16"?><a>Да</a>', 'utf-16le'],
    // UTF-8: invalid bytes and U+0000 become U+FFFD (NULs the body ends in are padding: below)
    ['text/plain', Buffer.from([0x61, 0xc3, 0x28, 0x00, 0x62]), `a${R}(${R}b`, 'utf-8'],
    [null, Buffer.alloc(0), '', 'utf-8'],
  ] as const)('%s %j', (contentType, bytes, text, encoding) => {
    expect(answerEncoding(bytes, contentType)).toBe(encoding);
    expect(answerText(bytes, contentType)).toBe(text);
  });
});

describe('answerText: a body cut at the byte cap', () => {
  it.each([
    ['UTF-8, inside "é"', 'text/plain; charset=utf-8', utf8('xéé').subarray(0, 4), 'xé'],
    ['UTF-8, inside an emoji', 'text/plain', utf8('a😀').subarray(0, 4), 'a'],
    ['UTF-16LE, an odd byte', 'text/plain; charset=utf-16le', utf16le('ab').subarray(0, 3), 'a'],
    ['UTF-16LE, between the halves of a pair', 'text/plain; charset=utf-16le', utf16le('a😀').subarray(0, 4), 'a'],
    ['Shift_JIS, inside a two-byte character', 'text/plain; charset=shift_jis', Buffer.from([0x61, 0x82]), 'a'],
    ['windows-1251: every byte is a character', 'text/plain; charset=windows-1251', cp1251('Да'), 'Да'],
  ])('%s: the part character is left out, not U+FFFD', (_name, contentType, bytes, text) => {
    expect(answerText(bytes, contentType, true)).toBe(text);
  });

  it('a body that was not cut keeps U+FFFD for its broken end', () => {
    expect(answerText(utf8('xé').subarray(0, 2), 'text/plain')).toBe(`x${R}`);
  });
});

describe('answerText: NUL padding after the answer', () => {
  const xml = '<?xml version="1.0"?><reply><id>5</id></reply>';
  it.each([
    ['UTF-8 XML', 'text/xml', Buffer.concat([utf8(xml), Buffer.alloc(40)]), xml],
    ['UTF-8 JSON', 'application/json', Buffer.concat([utf8('{"id":5}'), Buffer.alloc(3)]), '{"id":5}'],
    // decoded first: a UTF-16 character whose second byte is 0x00 ("5" is 35 00) stays whole
    ['UTF-16LE, its last character ending in a 0x00 byte', 'text/xml; charset=utf-16le', Buffer.concat([utf16le('<r>5</r>5'), Buffer.alloc(6)]), '<r>5</r>5'],
    // only trailing NULs: one at the start or inside is part of the answer (stored as U+FFFD)
    ['NULs at the start and inside', 'text/plain', utf8('\u0000a\u0000b\u0000\u0000'), `${R}a${R}b`],
  ])('%s: the trailing NULs are dropped', (_name, contentType, bytes, text) => {
    expect(answerText(bytes, contentType)).toBe(text);
  });

  it('a padded XML answer parses as XML', () => {
    expect(parseResponseBody(answerText(Buffer.concat([utf8(xml), Buffer.alloc(8)]), 'text/xml'), 'text/xml')).toEqual({ kind: 'xml', value: { reply: { id: '5' } } });
  });

  it('a body cut at the byte cap keeps its NULs: the answer goes on past them', () => {
    expect(answerText(utf8('ab\u0000\u0000'), 'text/plain', true)).toBe(`ab${R}${R}`);
  });
});

describe('charsetParameter', () => {
  it.each([
    ['text/plain; charset=UTF-8', 'UTF-8'],
    ['text/plain; CHARSET="koi8-r"', 'koi8-r'],
    ['text/plain', null],
    ['text/plain; charset=""', null],
    [null, null],
  ])('%j → %j', (ct, label) => {
    expect(charsetParameter(ct)).toBe(label);
  });
});

describe('xmlDeclaredEncoding', () => {
  it.each([
    ['<?xml version="1.0" encoding="windows-1251"?><a/>', 'windows-1251'],
    ["<?xml version='1.0' encoding = 'koi8-r' ?><a/>", 'koi8-r'],
    ['<?xml version="1.0"?><a encoding="koi8-r"/>', null],
    ['<a/>', null],
    ['\r\n \t<?xml version="1.0" encoding="windows-1251"?><a/>', 'windows-1251'],
    ['x<?xml version="1.0" encoding="windows-1251"?><a/>', null],
  ])('%j → %j', (xml, label) => {
    expect(xmlDeclaredEncoding(Buffer.from(xml))).toBe(label);
  });
});
