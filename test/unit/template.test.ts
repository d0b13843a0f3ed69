import { describe, it, expect } from 'vitest';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import {
  TEMPLATE_TAGS,
  HDE_ALIASES,
  isKnownPath,
  compileTemplate,
  checkTemplate,
  renderTemplate,
  templateTagsUsed,
  clearTemplateCache,
  templateCacheSize,
  TEMPLATE_CACHE_MAX,
  TemplateError,
  ESCAPERS,
  escapeForm,
  escapeHeader,
  escapeJson,
  escapeUrl,
  escapeXml,
  escapeXmlAttribute,
  escapeXmlCdata,
  headerValueAsUtf8Bytes,
  type TemplateScope,
  type TemplateContext,
} from '../../src/templates/index.js';
import { sampleContext } from '../../src/templates/sample-context.js';

/** Values that try to break out of every kind of escaping (all valid XML 1.0 characters). */
const HOSTILE: string[] = [
  'He said "quotes" and \'single\'',
  'back\\slash \\" \\n \\u0041',
  'line1\nline2\r\nline3\rend',
  'tab\there',
  'sep\u2028line\u2029para',
  '<b>bold</b> & <&> &amp; &lt;',
  ']]> <![CDATA[ x ]]>',
  'emoji 😀 👩‍👩‍👧 and Кириллица, 中文',
  '{{ ticket.id }} {ticket_id} <%= 7*7 %> ${x} `tick`',
  '% %25 %zz & = # ? / + : @ ; , space here',
  '',
  ' leading and trailing ',
];

const xml = new XMLParser({ processEntities: true, htmlEntities: true, trimValues: false, parseTagValue: false, ignoreAttributes: false });

function ctxWith(patch: (c: TemplateContext) => void): TemplateContext {
  const c = sampleContext();
  patch(c);
  return c;
}

describe('catalogue', () => {
  const names = TEMPLATE_TAGS.map((t) => t.name);

  it.each([
    'ticket.id', 'ticket.title', 'ticket.description', 'ticket.status', 'ticket.priority', 'ticket.createdAt',
    'ticket.updatedAt', 'ticket.custom.<key>', 'requester.id', 'requester.name', 'requester.email', 'requester.role',
    'requester.phone', 'requester.telegramChatId', 'assignee.telegramChatId', 'parent.id', 'parent.title',
    'parent.status', 'parent.priority', 'lastReply.id', 'lastReply.text', 'lastReply.createdAt', 'lastReply.author.id',
    'lastReply.author.name', 'lastReply.author.email', 'lastReply.author.role', 'lastComment.text',
    'lastComment.author.name', 'lastPost.text', 'lastPost.author.id', 'event.type', 'rule.id', 'rule.name',
    'webhook.id', 'webhook.name', 'delivery.id', 'temp.<name>', 'response.status', 'response.body', 'now',
    '{ticket_id}', '{parent_ticket_id}', '{answer_last}', '{last_answer_author}', '{last_post_user_id}', '{last_post_date}',
  ])('lists %s', (name) => {
    expect(names).toContain(name);
  });

  it('has a description for every tag and no duplicates', () => {
    expect(new Set(names).size).toBe(names.length);
    for (const t of TEMPLATE_TAGS) expect(t.description.length).toBeGreaterThan(3);
  });

  it('every fixed path renders its example from sampleContext()', () => {
    for (const t of TEMPLATE_TAGS) {
      if (t.name.includes('<')) continue;
      const source = t.name.startsWith('{') ? t.name : `{{ ${t.name} }}`;
      expect(renderTemplate(source, 'successComment', sampleContext(), ESCAPERS.text), t.name).toBe(t.example);
    }
  });

  it('sample values look real', () => {
    const s = sampleContext();
    expect(s.ticket!.id).toBe('42');
    expect(s.requester!.telegramChatId).toBe('123456789');
    expect(s.requester!.phone).toBe('+15551234567');
    expect(sampleContext()).not.toBe(s); // fresh each call
  });

  it.each<[string, TemplateScope, boolean]>([
    ['ticket.id', 'webhook', true],
    ['ticket.custom.order_no', 'action', true],
    ['parent.custom.order_no', 'webhook', true],
    ['temp.sms_id', 'webhook', true],
    ['temp.sms_id', 'action', true],
    ['response.status', 'successComment', true],
    ['response.body', 'webhook', false],
    ['response.status', 'action', false],
    ['ticket.custom', 'webhook', false],
    ['ticket.custom.a.b', 'webhook', false],
    ['ticket.custom.constructor', 'webhook', false],
    ['temp.__proto__', 'webhook', false],
    ['ticket.foo', 'webhook', false],
    ['ticket', 'webhook', false],
    ['it', 'webhook', false],
    ['ticket.id ', 'webhook', false],
  ])('isKnownPath(%j, %s) is %s', (path, scope, known) => {
    expect(isKnownPath(path, scope)).toBe(known);
  });

  it('aliases point to known paths', () => {
    for (const path of Object.values(HDE_ALIASES)) expect(isKnownPath(path, 'webhook')).toBe(true);
  });
});

describe('refused templates', () => {
  // [source, scope, message pattern, line, column, tag]
  it.each<[string, TemplateScope, RegExp, number, number, string]>([
    ['{{~ ticket.id }}', 'webhook', /Eta output tags/, 1, 1, '{{~ ticket.id }}'],
    ['x {{= ticket.id }}', 'webhook', /Eta output tags/, 1, 3, '{{= ticket.id }}'],
    ['{{- ticket.id }}', 'webhook', /whitespace control/, 1, 1, '{{- ticket.id }}'],
    ['{{ ticket.id -}}', 'webhook', /whitespace control/, 1, 1, '{{ ticket.id -}}'],
    ['{{ <% process.exit() %> }}', 'webhook', /code is not allowed/, 1, 1, '{{ <% process.exit() %> }}'],
    ['{{ ticket.constructor }}', 'webhook', /^"constructor" is not allowed in tag "\{\{ ticket.constructor \}\}" at 1:1$/, 1, 1, '{{ ticket.constructor }}'],
    ['{{ ticket.__proto__ }}', 'webhook', /"__proto__" is not allowed/, 1, 1, '{{ ticket.__proto__ }}'],
    ['{{ ticket.custom.prototype }}', 'webhook', /"prototype" is not allowed/, 1, 1, '{{ ticket.custom.prototype }}'],
    ['{{ ticket["id"] }}', 'webhook', /brackets are not allowed/, 1, 1, '{{ ticket["id"] }}'],
    ['{{ process.exit() }}', 'webhook', /function calls are not allowed/, 1, 1, '{{ process.exit() }}'],
    ['{{ ticket.id + 1 }}', 'webhook', /operators are not allowed/, 1, 1, '{{ ticket.id + 1 }}'],
    ['{{ ticket.id || 1 }}', 'webhook', /operators are not allowed/, 1, 1, '{{ ticket.id || 1 }}'],
    ['{{ `${1}` }}', 'webhook', /quotes are not allowed/, 1, 1, '{{ `${1}` }}'],
    ['{{ ticket.id ticket.title }}', 'webhook', /one path/, 1, 1, '{{ ticket.id ticket.title }}'],
    ['{{ it }}', 'webhook', /^unknown tag "it" at 1:1/, 1, 1, '{{ it }}'],
    ['{{ this }}', 'webhook', /^unknown tag "this" at 1:1/, 1, 1, '{{ this }}'],
    ['{{ global.x }}', 'webhook', /^unknown tag "global.x"/, 1, 1, '{{ global.x }}'],
    ['{{ process.env }}', 'webhook', /^unknown tag "process.env"/, 1, 1, '{{ process.env }}'],
    ['{{ __eta.res }}', 'webhook', /^unknown tag "__eta.res"/, 1, 1, '{{ __eta.res }}'],
    ['Hello {{ ticket.foo }}', 'webhook', /^unknown tag "ticket.foo" at 1:7/, 1, 7, '{{ ticket.foo }}'],
    ['{{ ticket.custom }}', 'webhook', /unknown tag "ticket.custom"/, 1, 1, '{{ ticket.custom }}'],
    ['{{ 1 }}', 'webhook', /invalid tag/, 1, 1, '{{ 1 }}'],
    ['{{}}', 'webhook', /empty tag/, 1, 1, '{{}}'],
    ['{{ response.body }}', 'webhook', /only available in successComment/, 1, 1, '{{ response.body }}'],
    ['{{ response.status }}', 'action', /only available in successComment/, 1, 1, '{{ response.status }}'],
    ['{"a": 1,\n "b": "{{ ticket.id"}', 'webhook', /^unclosed tag "\{\{" at 2:8/, 2, 8, '{{'],
    ['{{ ticket.id {{ ticket.title }}', 'webhook', /unclosed tag "\{\{" at 1:1/, 1, 1, '{{'],
    ['{{{ ticket.id }}}', 'webhook', /unexpected "\{\{\{"/, 1, 1, '{{{'],
    ['line 1\r\nline 2 😀😀 {{ nope }}', 'webhook', /unknown tag "nope" at 2:11/, 2, 11, '{{ nope }}'],
    ['{{ticket_id}}', 'webhook', /unknown tag "ticket_id"/, 1, 1, '{{ticket_id}}'],
  ])('%j (%s)', (source, scope, message, line, column, tag) => {
    let err: unknown;
    try {
      compileTemplate(source, scope);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TemplateError);
    const te = err as TemplateError;
    expect(te.message).toMatch(message);
    expect(te.message).toContain(`at ${line}:${column}`);
    expect([te.line, te.column, te.tag]).toEqual([line, column, tag]);
    expect(checkTemplate(source, scope)?.message).toBe(te.message);
  });
});

describe('literal text stays literal', () => {
  it.each([
    '<%= 7*7 %>',
    '<% process.exit() %>',
    '${process.exit()}',
    '`backticks` and ${x}',
    `'single' "double" \\ \\' \\\\ \\n`,
    '{ x } {x} {ticket} {ticket_idx} {TICKET_ID} { ticket_id }',
    '}} alone }}}',
    '} { {} {{ ticket.id }}}',
    'line\nbreaks\r\nstay\r',
    'sep\u2028\u2029',
    'nul\u0000 and lone \uD800 surrogate',
    '__eta.res = "x"; it[0]',
    '*/ /* comment',
    '',
  ])('%j', (source) => {
    const expected = source.replaceAll('{{ ticket.id }}', '42');
    expect(renderTemplate(source, 'webhook', sampleContext(), ESCAPERS.text)).toBe(expected);
  });

  it('keeps the newline after a tag (no Eta auto-trim)', () => {
    expect(renderTemplate('{{ ticket.id }}\n{{ ticket.id }}\r\n', 'webhook', sampleContext(), ESCAPERS.text)).toBe('42\n42\r\n');
  });

  it('accepts spaces and newlines inside the braces', () => {
    expect(renderTemplate('{{ticket.id}}|{{   ticket.id\t}}|{{\n ticket.id \n}}', 'webhook', sampleContext(), ESCAPERS.text)).toBe('42|42|42');
  });
});

describe('rendering values', () => {
  const render = (source: string, ctx: TemplateContext, scope: TemplateScope = 'successComment') =>
    renderTemplate(source, scope, ctx, ESCAPERS.text);

  it.each<[string, (c: TemplateContext) => void, string]>([
    ['{{ ticket.title }}', () => {}, 'Printer is jammed'],
    ['{{ assignee.name }}', (c) => (c.assignee = null), ''],
    ['{{ parent.id }}', (c) => (c.parent = null), ''],
    ['{{ requester.phone }}', (c) => (c.requester!.phone = null), ''],
    ['{{ lastReply.author.name }}', (c) => (c.lastReply!.author = null), ''],
    ['{{ ticket.custom.missing }}', () => {}, ''],
    ['{{ ticket.custom.n }}', (c) => (c.ticket!.custom.n = 12.5), '12.5'],
    ['{{ ticket.custom.b }}', (c) => (c.ticket!.custom.b = false), 'false'],
    ['{{ ticket.custom.z }}', (c) => (c.ticket!.custom.z = 0), '0'],
    ['{{ ticket.custom.d }}', (c) => (c.ticket!.custom.d = new Date('2024-01-02T03:04:05Z')), '2024-01-02T03:04:05.000Z'],
    ['{{ ticket.custom.o }}', (c) => (c.ticket!.custom.o = { toString: () => 'pwned' }), ''],
    ['{{ ticket.custom.a }}', (c) => (c.ticket!.custom.a = ['x', 'y']), ''],
    ['{{ ticket.custom.f }}', (c) => (c.ticket!.custom.f = () => 'pwned'), ''],
    ['{{ ticket.custom.toString }}', () => {}, ''],
    ['{{ temp.hasOwnProperty }}', () => {}, ''],
    ['{{ temp.valueOf }}', () => {}, ''],
    ['{{ temp.inherited }}', (c) => (c.temp = Object.create({ inherited: 'from prototype' })), ''],
    ['{{ temp.sms_id }}', () => {}, '77001'],
    ['{{ response.status }} {{ response.body }}', () => {}, '200 {"ok":true,"result":{"message_id":555}}'],
    ['{{ ticket.title }}', (c) => (c.ticket!.title = '{{ ticket.id }} <%= 1 %>'), '{{ ticket.id }} <%= 1 %>'],
    ['{ticket_id}/{parent_ticket_id}/{answer_last}/{last_answer_author}/{last_post_user_id}/{last_post_date}', () => {},
      '42/41/Any news on this?/Ada Lovelace/7/2024-05-01T10:15:00.000Z'],
    ['{{ ticket.id }}{{ ticket.id }}{ticket_id}', () => {}, '424242'],
  ])('%s', (source, patch, expected) => {
    expect(render(source, ctxWith(patch))).toBe(expected);
  });

  // receivers reading plain decimals refuse 1e-7 and 1e+21: a finite number renders without an exponent, exactly as the double reads back
  it.each<[number, string]>([
    [0.0000001, '0.0000001'],
    [-1.5e-10, '-0.00000000015'],
    [1.2345e-7, '0.00000012345'],
    [0.000001, '0.000001'],
    [1e21, '1000000000000000000000'],
    [-1.2345e25, '-12345000000000000000000000'],
    [123456789012345680000, '123456789012345680000'],
    [12.5, '12.5'],
    [-0, '0'],
    [5e-324, `0.${'0'.repeat(323)}5`],
    [Number.MAX_VALUE, `17976931348623157${'0'.repeat(292)}`],
  ])('a number %s renders in plain decimal notation, in a JSON body as that JSON number', (n, expected) => {
    const ctx = ctxWith((c) => (c.ticket!.custom.n = n));
    expect(render('{{ ticket.custom.n }}', ctx)).toBe(expected);
    expect(Number(expected)).toBe(n === 0 ? 0 : n);
    const body = renderTemplate('{"n": {{ ticket.custom.n }}, "s": "{{ ticket.custom.n }}"}', 'webhook', ctx, ESCAPERS.json);
    expect(JSON.parse(body)).toEqual({ n: n === 0 ? 0 : n, s: expected });
  });

  it('applies the escaper to every value and never to literal text', () => {
    const seen: string[] = [];
    const out = renderTemplate('"{{ ticket.id }}" & {{ ticket.title }}', 'webhook', sampleContext(), (v) => {
      seen.push(v);
      return `[${v}]`;
    });
    expect(out).toBe('"[42]" & [Printer is jammed]');
    expect(seen).toEqual(['42', 'Printer is jammed']);
  });

  it('lists the paths a template uses', () => {
    expect(templateTagsUsed('{{ ticket.id }} {ticket_id} {{ temp.x }} {{ response.status }}')).toEqual(['ticket.id', 'temp.x', 'response.status']);
    expect(() => templateTagsUsed('{{ nope }}')).toThrow(TemplateError);
  });
});

describe('compile cache', () => {
  it('returns the same compiled template for the same (scope, source)', () => {
    const a = compileTemplate('{{ ticket.id }}', 'webhook');
    expect(compileTemplate('{{ ticket.id }}', 'webhook')).toBe(a);
    expect(compileTemplate('{{ ticket.id }}', 'action')).not.toBe(a);
  });

  it('is bounded and drops the oldest entry', () => {
    clearTemplateCache();
    const first = compileTemplate('first {{ ticket.id }}', 'webhook');
    for (let i = 0; i < TEMPLATE_CACHE_MAX; i++) compileTemplate(`t${i} {{ ticket.id }}`, 'webhook');
    expect(templateCacheSize()).toBe(TEMPLATE_CACHE_MAX);
    expect(compileTemplate('first {{ ticket.id }}', 'webhook')).not.toBe(first);
  });

  it('does not cache errors as successes', () => {
    expect(() => compileTemplate('{{ x }}', 'webhook')).toThrow(TemplateError);
    expect(() => compileTemplate('{{ x }}', 'webhook')).toThrow(TemplateError);
  });
});

describe('escapers round-trip hostile values', () => {
  it.each(HOSTILE)('json %j', (v) => {
    const out = escapeJson(v);
    expect(JSON.parse(`"${out}"`)).toBe(v);
    expect(out).not.toMatch(/[\u2028\u2029\n\r]/);
  });

  it.each(HOSTILE)('xml %j', (v) => {
    const doc = xml.parse(`<r a="${escapeXmlAttribute(v)}" b='${escapeXmlAttribute(v)}'><t>${escapeXml(v)}</t></r>`) as { r: { t: string; '@_a'?: string; '@_b'?: string } };
    expect(doc.r.t).toBe(v);
    expect(doc.r['@_a'] ?? '').toBe(v);
    expect(doc.r['@_b'] ?? '').toBe(v);
    // nothing a parser normalises in an attribute value is left raw
    expect(escapeXmlAttribute(v)).not.toMatch(/[\t\n\r]/);
  });

  // literal text around the value inside the section, chosen to form "]]>" with its ends
  const CDATA_AROUND: [string, string][] = [['', ''], ['x]', ''], ['x]]', ''], ['', '>y'], ['', ']>y'], ['a', 'b']];
  it.each(HOSTILE)('xml inside a CDATA section %j: no entity escaping, "]]>" split', (v) => {
    const out = escapeXmlCdata(v);
    if (!/[\r\]>]/.test(v)) expect(out).toBe(v);
    for (const [before, after] of CDATA_AROUND) {
      const text = `<r><![CDATA[${before}${out}${after}]]></r>`;
      expect(XMLValidator.validate(text), text).toBe(true);
      expect((xml.parse(text) as { r?: string }).r ?? '', text).toBe(before + v + after);
    }
  });

  it('xml inside a CDATA section: the receiver reads <, & and ]]> as they are', () => {
    expect(escapeXmlCdata('Tom -- <b>urgent</b> & co')).toBe('Tom -- <b>urgent</b> & co');
    expect(escapeXmlCdata('a]]>b')).toBe('a]]]]><![CDATA[>b');
  });

  it.each(HOSTILE)('form %j', (v) => {
    const out = escapeForm(v);
    expect(new URLSearchParams(`a=${out}&b=1`).get('a')).toBe(v);
    expect(`a=${out}`).toBe(new URLSearchParams({ a: v }).toString());
  });

  it.each(HOSTILE)('url %j', (v) => {
    const out = escapeUrl(v);
    expect(decodeURIComponent(out)).toBe(v);
    expect(out).toMatch(/^[A-Za-z0-9\-_.!~*'()%]*$/);
  });

  it.each(HOSTILE)('header %j', (v) => {
    const out = escapeHeader(v);
    expect(out).not.toMatch(/[\r\n\u0000-\u0008\u000A-\u001F\u007F]/);
    expect(out).toBe(v.replace(/[\r\n]/g, ''));
  });

  it('xml removes characters XML 1.0 forbids', () => {
    expect(escapeXml('a\u0000b\u0001c\u001Fd\uFFFEe\uD800f😀')).toBe('abcdef😀');
  });

  it('url and form replace lone surrogates instead of throwing', () => {
    expect(escapeUrl('a\uD800b')).toBe('a%EF%BF%BDb');
    expect(escapeForm('a\uDC00b')).toBe(new URLSearchParams({ x: 'a\uDC00b' }).toString().slice(2));
  });

  it('json keeps lone surrogates parseable', () => {
    expect(JSON.parse(`"${escapeJson('a\uD800b')}"`)).toBe('a\uD800b');
  });

  it.each(['plain ascii', 'café', 'Заявка 😀', ''])('headerValueAsUtf8Bytes(%j) carries the UTF-8 bytes', (v) => {
    const wire = headerValueAsUtf8Bytes(v);
    expect(wire).toMatch(/^[\u0000-\u00FF]*$/);
    expect(Buffer.from(wire, 'latin1').toString('utf8')).toBe(v);
    if (/^[\u0000-\u007F]*$/.test(v)) expect(wire).toBe(v);
  });

  it('text is the identity', () => {
    for (const v of HOSTILE) expect(ESCAPERS.text(v)).toBe(v);
  });
});
