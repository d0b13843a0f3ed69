import { describe, expect, it } from 'vitest';
import { applyMappings, getPath, parseMappingPath, parseResponseBody } from '../../src/delivery/response.js';
import type { CustomFieldType, ResponseMappingDef } from '../../src/domain/index.js';

describe('parseResponseBody', () => {
  it.each([
    ['application/json', '{"a":1}', 'json', { a: 1 }],
    ['application/json; charset=utf-8', '[1,2]', 'json', [1, 2]],
    ['application/problem+json', '{"title":"x"}', 'json', { title: 'x' }],
    ['APPLICATION/JSON', 'null', 'json', null],
    ['application/xml', '<a>1</a>', 'xml', { a: '1' }],
    ['text/xml; charset=utf-8', '<?xml version="1.0"?><a>1</a>', 'xml', { a: '1' }],
    ['application/atom+xml', '<feed><id>x</id></feed>', 'xml', { feed: { id: 'x' } }],
    // white space and byte order marks before the document are no part of it
    ['text/xml', '\r\n  <?xml version="1.0"?><a>1</a>', 'xml', { a: '1' }],
    ['text/xml', '\n\uFEFF<?xml version="1.0"?><a>1</a>', 'xml', { a: '1' }],
    ['text/xml', '\uFEFF\n<?xml version="1.0"?><a>1</a>', 'xml', { a: '1' }],
    ['application/json', '\uFEFF{"a":1}', 'json', { a: 1 }],
    ['application/json', '\r\n\uFEFF {"a":12345678901234567890}', 'json', { a: '12345678901234567890' }],
    ['application/x-www-form-urlencoded', 'a=1&b=two+words&c=%C3%A9', 'form', { a: '1', b: 'two words', c: 'é' }],
    ['application/x-www-form-urlencoded', 'id=1&id=2', 'form', { id: ['1', '2'] }],
    // a line break (or a BOM) around form data is no part of its last (first) value; an encoded one is
    ['application/x-www-form-urlencoded', 'status=OK&id=5\r\n', 'form', { status: 'OK', id: '5' }],
    ['application/x-www-form-urlencoded', '\uFEFF\nstatus=OK&id=5 \n\n', 'form', { status: 'OK', id: '5' }],
    ['application/x-www-form-urlencoded', 'text=two+lines%0A', 'form', { text: 'two lines\n' }],
    // escapes are bytes in the charset the Content-Type names (a windows-1251 server's "Доставлено"), else UTF-8
    ['application/x-www-form-urlencoded; charset=windows-1251', 'status=%C4%EE%F1%F2%E0%E2%EB%E5%ED%EE&id=5', 'form', { status: 'Доставлено', id: '5' }],
    ['application/x-www-form-urlencoded; charset="KOI8-R"', 'text=%F0%D2%C9%D7%C5%D4+%21', 'form', { text: 'Привет !' }],
    ['application/x-www-form-urlencoded; charset=utf-16le', 'c=%C3%A9', 'form', { c: 'é' }],
    ['application/x-www-form-urlencoded', 'a=%E2%9C%93&b=100%&c&=x&d=%FF', 'form', { a: '✓', b: '100%', c: '', '': 'x', d: '\uFFFD' }],
    ['text/plain', 'OK', 'text', 'OK'],
    ['text/html', '<p>hi</p>', 'text', '<p>hi</p>'],
    [null, '{"a":1}', 'text', '{"a":1}'],
  ] as const)('%s %s → %s', (ct, body, kind, value) => {
    const r = parseResponseBody(body, ct);
    expect(r.kind).toBe(kind);
    expect(r.value).toEqual(value);
    // a text answer says why it has no paths (the mapping tests below)
    if (kind !== 'text') expect(r.note).toBeUndefined();
  });

  it.each([
    ['application/json', '{"a":', 'JSON'],
    ['application/json', '', 'JSON'],
    ['application/xml', '<a><b></a>', 'XML'],
    ['application/xml', 'OK', 'XML'],
    ['text/xml', '<a>1</a><b>2</b>', 'XML'],
  ])('%s %j does not parse → text, with a note', (ct, body, kind) => {
    const r = parseResponseBody(body, ct);
    expect(r).toMatchObject({ kind: 'text', value: body });
    expect(r.note).toContain(`did not parse as ${kind}`);
  });

  it('JSON: an integer beyond 2^53 keeps its digits (as text); safe numbers, strings and duplicate keys as JSON.parse reads them', () => {
    const body = '{"result":{"message_id":12345678901234567890,"neg":-9007199254740993,"safe":9007199254740991,"f":1.10,"s":"12345678901234567890 \\"q\\" 99999999999999999999"},"d":1,"d":2}';
    expect(parseResponseBody(body, 'application/json').value).toEqual({
      result: { message_id: '12345678901234567890', neg: '-9007199254740993', safe: 9007199254740991, f: 1.1, s: '12345678901234567890 "q" 99999999999999999999' },
      d: 2,
    });
    const out = applyMappings(parseResponseBody(body, 'application/json'), [{ path: 'result.message_id', target: 'CUSTOM_FIELD', field: 'note' }], new Map([['note', { type: 'TEXT' as CustomFieldType, options: [] }]]));
    expect(out.customFields).toEqual({ note: '12345678901234567890' });
  });

  it('XML: tag values stay strings, attributes get "@_", the declaration is dropped', () => {
    const r = parseResponseBody('<?xml version="1.0" encoding="UTF-8"?><reply><result code="0">OK</result><sms_id>1000001</sms_id><flag>true</flag></reply>', 'application/xml');
    expect(r.value).toEqual({ reply: { result: { '#text': 'OK', '@_code': '0' }, sms_id: '1000001', flag: 'true' } });
  });

  it('XML: DOCTYPE entities are not expanded; predefined and numeric entities are decoded', () => {
    const evil = '<!DOCTYPE a [<!ENTITY x "boom"><!ENTITY y "&x;&x;&x;&x;">]><a><b>&y;</b><c>Tom &amp; Jerry &lt;3 &#233;&#x4E2D;</c></a>';
    const r = parseResponseBody(evil, 'application/xml');
    expect(r.kind).toBe('xml');
    expect(getPath(r.value, 'a.b')).toBe('&y;');
    expect(getPath(r.value, 'a.c')).toBe('Tom & Jerry <3 é中');
  });

  it('XML: CDATA is kept literally; an element with attributes only has empty text', () => {
    const r = parseResponseBody('<r><!-- <![CDATA[ --><c><![CDATA[<b>&amp;]]></c><m>a &amp; <![CDATA[&lt;]]></m><s code="0"/></r>', 'application/xml');
    expect(getPath(r.value, 'r.c')).toBe('<b>&amp;');
    expect(getPath(r.value, 'r.m')).toBe('a & &lt;');
    // white space is trimmed from element text, not from CDATA
    const spaced = parseResponseBody('<r><c><![CDATA[  two\n lines \n]]></c><e><![CDATA[ ]]></e><t>  text  </t></r>', 'application/xml');
    expect([getPath(spaced.value, 'r.c'), getPath(spaced.value, 'r.e'), getPath(spaced.value, 'r.t')]).toEqual(['  two\n lines \n', ' ', 'text']);
    const out = applyMappings(r, [{ path: 'r.s', target: 'TEMPORARY', field: 's' }, { path: 'r.s.@_code', target: 'TEMPORARY', field: 'code' }], new Map());
    expect(out.temp).toEqual({ s: '', code: '0' });
  });

  it('XML: a "__proto__" element does not pollute anything: it is an own element of the answer', () => {
    const r = parseResponseBody('<a><__proto__><polluted>1</polluted></__proto__><id>5</id></a>', 'application/xml');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(r.kind).toBe('xml');
    const a = getPath(r.value, 'a') as object;
    expect(Object.getPrototypeOf(a)).toBe(Object.prototype);
    expect(Object.hasOwn(a, '__proto__')).toBe(true);
    expect(getPath(r.value, ['a', 'polluted'])).toBeUndefined();
    expect(getPath(r.value, ['a', '__proto__', 'polluted'])).toBe('1');
    expect(getPath(r.value, 'a.id')).toBe('5');
  });

  it('XML: elements named as prototype keys and Object methods parse like any other, under their own names', () => {
    const xml = '<r><constructor>c</constructor><prototype>p</prototype><toString>t</toString><valueOf>v</valueOf><hasOwnProperty>h</hasOwnProperty><item><toString>1</toString></item><item><toString>2</toString></item><sms_id x="1">1000001</sms_id></r>';
    const r = parseResponseBody(xml, 'text/xml');
    expect(r.kind).toBe('xml');
    expect(Object.keys(getPath(r.value, 'r') as object)).toEqual(['constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty', 'item', 'sms_id']);
    expect(['r.toString', 'r.valueOf', 'r.hasOwnProperty', 'r.item[1].toString', 'r.sms_id.#text', 'r.sms_id.@_x'].map((p) => getPath(r.value, p))).toEqual(['t', 'v', 'h', '2', '1000001', '1']);
    expect(getPath(r.value, ['r', 'constructor'])).toBe('c');
    expect(getPath(r.value, ['r', 'prototype'])).toBe('p');
    const out = applyMappings(r, [{ path: 'r.sms_id.#text', target: 'TEMPORARY', field: 'sms' }, { path: 'r.toString', target: 'TEMPORARY', field: 't' }], new Map());
    expect(out.temp).toEqual({ sms: '1000001', t: 't' });
    // a later answer without such names parses as before
    expect(getPath(parseResponseBody('<r><id>7</id></r>', 'text/xml').value, 'r.id')).toBe('7');
  });

  it('form: a "__proto__" key stays an own property', () => {
    const r = parseResponseBody('__proto__=x&a=1', 'application/x-www-form-urlencoded');
    expect(Object.getPrototypeOf(r.value)).toBe(Object.prototype);
    expect(Object.hasOwn(r.value as object, '__proto__')).toBe(true);
  });
});

describe('parseMappingPath', () => {
  it.each([
    ['result', ['result']],
    ['result.message_id', ['result', 'message_id']],
    ['items[0].id', ['items', 0, 'id']],
    ['a.b[2][0]', ['a', 'b', 2, 0]],
    ['[0].id', [0, 'id']],
    ['reply.result.@_code', ['reply', 'result', '@_code']],
    ['reply.result.#text', ['reply', 'result', '#text']],
    ['data.sms-id', ['data', 'sms-id']],
  ])('%s → %j', (path, segments) => {
    expect(parseMappingPath(path)).toEqual(segments);
  });

  it.each([
    ['', /empty/],
    ['a..b', /empty key at position 3/],
    ['.a', /empty key at position 1/],
    ['a.', /empty key/],
    ['a[x]', /expected an index like \[0\] at position 2/],
    ['a[-1]', /expected an index/],
    ['a[0', /expected an index/],
    ['a]', /unexpected "\]"/],
    ['a[0]b', /expected "\." or "\[" before a key/],
    ['a.[0]', /right after "\."/],
    ['a b', /unexpected " "/],
    ['__proto__.x', /key "__proto__" is not allowed/],
    ['a.constructor', /key "constructor" is not allowed/],
    ['a.prototype', /key "prototype" is not allowed/],
    ['a'.repeat(501), /longer than 500/],
  ])('%j is refused: %s', (path, message) => {
    expect(() => parseMappingPath(path)).toThrow(message);
  });
});

describe('getPath', () => {
  const value = { result: { message_id: 'm1', n: 0, empty: null }, items: [{ id: 'x' }, { id: 'y' }], a: { b: [0, 1, ['deep']] } };
  it.each([
    ['result.message_id', 'm1'],
    ['result.n', 0],
    ['result.empty', null],
    ['items[1].id', 'y'],
    ['a.b[2][0]', 'deep'],
    ['items[2].id', undefined],
    ['items.length', undefined],
    ['result.toString', undefined],
    ['result.hasOwnProperty', undefined],
    ['missing.x', undefined],
    ['result[0]', undefined],
  ])('%s → %j', (path, expected) => {
    expect(getPath(value, path)).toEqual(expected);
  });
});

describe('applyMappings', () => {
  const fields = new Map<string, { type: CustomFieldType; options: string[] }>([
    ['order_no', { type: 'NUMBER', options: [] }],
    ['sms_status', { type: 'SELECT', options: ['OK', 'ERROR'] }],
    ['note', { type: 'TEXT', options: [] }],
    ['paid', { type: 'BOOLEAN', options: [] }],
  ]);
  const map = (path: string, field: string, target: ResponseMappingDef['target'] = 'TEMPORARY'): ResponseMappingDef => ({ path, field, target });

  it('JSON: custom fields converted, temporaries kept as they are, every value in responseData', () => {
    const parsed = parseResponseBody('{"result":{"message_id":"m-1","order":"777","paid":"yes"},"items":[{"id":5}]}', 'application/json');
    const out = applyMappings(parsed, [map('result.message_id', 'msg'), map('result.order', 'order_no', 'CUSTOM_FIELD'), map('result.paid', 'paid', 'CUSTOM_FIELD'), map('items[0].id', 'first_id')], fields);
    expect(out).toEqual({
      customFields: { order_no: 777, paid: true },
      temp: { msg: 'm-1', first_id: 5 },
      responseData: { msg: 'm-1', order_no: '777', paid: 'yes', first_id: 5 },
      notes: [],
    });
  });

  it('JSON: a number a double cannot hold is read as written: a NUMBER field refuses it, a TEXT field and responseData keep it exactly', () => {
    const parsed = parseResponseBody('{"v":0.10000000000000000001,"id":12345678901234567890,"ok":1.5,"big":1e400}', 'application/json');
    const out = applyMappings(parsed, [map('v', 'order_no', 'CUSTOM_FIELD'), map('v', 'note', 'CUSTOM_FIELD'), map('ok', 'ok'), map('big', 'big')], fields);
    expect(out.customFields).toEqual({ note: '0.10000000000000000001' });
    expect(out.notes).toEqual([expect.stringContaining('map it into a TEXT field instead')]);
    expect(out.temp).toEqual({ ok: 1.5, big: '1e400' });
    expect((parsed as { value: unknown }).value).toMatchObject({ id: '12345678901234567890', ok: 1.5 });
  });

  it('XML: the root is the first key; an element with attributes gives its text; tag values stay strings', () => {
    const parsed = parseResponseBody('<reply><result code="0">OK</result><sms_id>1000001</sms_id></reply>', 'text/xml');
    const out = applyMappings(parsed, [map('reply.result', 'sms_status', 'CUSTOM_FIELD'), map('reply.sms_id', 'sms_id'), map('reply.result.@_code', 'code')], fields);
    expect(out.customFields).toEqual({ sms_status: 'OK' });
    expect(out.temp).toEqual({ sms_id: '1000001', code: '0' });
    expect(out.notes).toEqual([]);
  });

  it('XML: a repeated element needs an [n] index', () => {
    const parsed = parseResponseBody('<r><id>1</id><id>2</id><item><n>a</n></item><item><n>b</n></item></r>', 'application/xml');
    const out = applyMappings(parsed, [map('r.id', 'id'), map('r.id[1]', 'second'), map('r.item.n', 'n'), map('r.item[1].n', 'n1')], fields);
    expect(out.temp).toEqual({ second: '2', n1: 'b' });
    expect(out.notes).toEqual(['path "r.id" is a list of 2 values, add an [n] index', 'path "r.item.n": "r.item" is a list, add an [n] index']);
  });

  it.each([
    // body, content type, path, value found or the note
    ['<r><m><id>111</id></m></r>', 'text/xml', 'r.m[0].id', '111'],
    ['<r><m><id>111</id></m><m><id>222</id></m></r>', 'text/xml', 'r.m[0].id', '111'],
    ['<r><m><id>111</id></m><m><id>222</id></m></r>', 'text/xml', 'r.m[1].id', '222'],
    ['<r><m><id>111</id></m></r>', 'text/xml', 'r.m[1].id', 'path "r.m[1].id" not found in the response'],
    ['<r><m><id>111</id></m></r>', 'text/xml', 'r.m.id[0]', '111'],
    ['<r><m><id>111</id></m></r>', 'text/xml', 'r.m[0][0].id', '111'],
    ['<r><m code="7">x</m></r>', 'text/xml', 'r.m[0]', 'x'],
    ['<r><m code="7">x</m></r>', 'text/xml', 'r.m[0].@_code', '7'],
    ['<r><m><id>111</id></m><m><id>222</id></m></r>', 'text/xml', 'r.m.id', 'path "r.m.id": "r.m" is a list, add an [n] index'],
    ['<r><m><id>111</id></m></r>', 'text/xml', '[0].r.m.id', 'path "[0].r.m.id" not found in the response'], // the document is not an element
    // JSON and form answers stay strict: one value is not a list
    ['{"r":{"m":{"id":111}}}', 'application/json', 'r.m[0].id', 'path "r.m[0].id" not found in the response'],
    ['{"r":{"m":[{"id":111}]}}', 'application/json', 'r.m[0].id', 111],
    ['id=5', 'application/x-www-form-urlencoded', 'id[0]', 'path "id[0]" not found in the response'],
  ] as const)('%s (%s): %s → %j', (body, contentType, path, expected) => {
    const out = applyMappings(parseResponseBody(body, contentType), [map(path, 'v')], fields);
    if (typeof expected === 'string' && expected.startsWith('path ')) {
      expect(out.notes).toEqual([expected]);
      expect(out.temp).toEqual({});
    } else {
      expect(out.notes).toEqual([]);
      expect(out.temp).toEqual({ v: expected });
    }
  });

  it.each([
    // body, content type, path, stored in the NUMBER field or undefined (not written, noted)
    ['{"result":{"message_id":12345678901234567890}}', 'application/json', 'result.message_id', undefined],
    ['{"result":{"message_id":-9007199254740993}}', 'application/json', 'result.message_id', undefined],
    ['{"result":{"message_id":"0.1000000000000000055"}}', 'application/json', 'result.message_id', undefined],
    ['<result><message_id>12345678901234567890</message_id></result>', 'text/xml', 'result.message_id', undefined],
    ['message_id=9007199254740992', 'application/x-www-form-urlencoded', 'message_id', undefined],
    ['{"result":{"message_id":9007199254740991}}', 'application/json', 'result.message_id', 9007199254740991],
    ['{"result":{"message_id":"12.50"}}', 'application/json', 'result.message_id', 12.5],
    ['<result><message_id>777</message_id></result>', 'text/xml', 'result.message_id', 777],
  ] as const)('a NUMBER field takes only what it holds exactly, a TEXT field every digit: %s → %j', (body, contentType, path, stored) => {
    const parsed = parseResponseBody(body, contentType);
    const raw = getPath(parsed.value, path);
    const out = applyMappings(parsed, [map(path, 'order_no', 'CUSTOM_FIELD'), map(path, 'note', 'CUSTOM_FIELD')], fields);
    expect(out.responseData).toEqual({ order_no: raw, note: raw });
    expect(out.customFields.note).toBe(String(raw));
    if (stored === undefined) {
      expect(out.customFields).not.toHaveProperty('order_no');
      expect(out.notes).toEqual([
        `path "${path}": custom field "order_no" is NUMBER: ${JSON.stringify(raw)} cannot be stored exactly as a number (it holds integers within ±9007199254740991 and decimals of about 15 significant digits); map it into a TEXT field instead`,
      ]);
    } else {
      expect(out.customFields.order_no).toBe(stored);
      expect(out.notes).toEqual([]);
    }
  });

  it('missing paths, objects, unknown fields and failed conversions are noted, not fatal', () => {
    const parsed = parseResponseBody('{"result":{"order":"abc","obj":{"a":1}}}', 'application/json');
    const out = applyMappings(
      parsed,
      [map('x.y', 'a'), map('result.order', 'order_no', 'CUSTOM_FIELD'), map('result.obj', 'b'), map('result.order', 'nope', 'CUSTOM_FIELD'), map('a..b', 'c'), map('result.order', 'raw')],
      fields,
    );
    expect(out.notes).toEqual([
      'path "x.y" not found in the response',
      'path "result.order": custom field "order_no" is NUMBER: "abc" is not a number',
      'path "result.obj" is an object, not a single value; map one of its fields',
      'path "result.order": custom field "nope" does not exist',
      'invalid mapping path "a..b": empty key at position 3',
    ]);
    expect(out.customFields).toEqual({});
    expect(out.temp).toEqual({ raw: 'abc' });
    expect(out.responseData).toEqual({ order_no: 'abc', nope: 'abc', raw: 'abc' });
  });

  it('a null value clears a custom field', () => {
    const out = applyMappings(parseResponseBody('{"n":null}', 'application/json'), [map('n', 'order_no', 'CUSTOM_FIELD')], fields);
    expect(out.customFields).toEqual({ order_no: null });
  });

  it('form bodies map like objects; text bodies have no paths', () => {
    const form = applyMappings(parseResponseBody('status=OK&id=9', 'application/x-www-form-urlencoded'), [map('status', 'sms_status', 'CUSTOM_FIELD'), map('id', 'id')], fields);
    expect(form.customFields).toEqual({ sms_status: 'OK' });
    expect(form.temp).toEqual({ id: '9' });
    const text = applyMappings(parseResponseBody('OK', 'text/plain'), [map('status', 's')], fields);
    expect(text.notes).toEqual(['path "status" not found in the response: the response is text/plain, and paths are read only from answers whose Content-Type is JSON, XML or form data']);
    // XML or JSON sent as text/html, or without a type, is text: the note names what it declared
    const html = applyMappings(parseResponseBody('<reply><id>5</id></reply>', 'text/html; charset=utf-8'), [map('reply.id', 'id')], fields);
    expect(html.notes).toEqual(['path "reply.id" not found in the response: the response is text/html, and paths are read only from answers whose Content-Type is JSON, XML or form data']);
    const untyped = applyMappings(parseResponseBody('{"id":5}', null), [map('id', 'id')], fields);
    expect(untyped.notes).toEqual(['path "id" not found in the response: the response has no Content-Type, and paths are read only from answers whose Content-Type is JSON, XML or form data']);
  });
});
