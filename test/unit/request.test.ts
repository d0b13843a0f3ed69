import { describe, it, expect } from 'vitest';
import { XMLParser } from 'fast-xml-parser';
import {
  renderRequest,
  previewRequest,
  redactedAuthorization,
  authorizationFor,
  appendQuery,
  validateWebhookDefinition,
  parseMappingPath,
  RequestRenderError,
  CONTENT_TYPES,
  urlTagProblem,
  type WebhookDefinitionInput,
} from '../../src/delivery/request.js';
import { openCredentials, sealCredentials } from '../../src/delivery/credentials.js';
import { createSecretBox } from '../../src/crypto/secret-box.js';
import { sampleContext } from '../../src/templates/sample-context.js';
import type { TemplateContext } from '../../src/templates/index.js';
import type { WebhookDef } from '../../src/delivery/types.js';

const UA = { userAgent: 'deskhooks/0.1.0' };
const TITLE = 'He said "quotes", a back\\slash,\na newline and <b>bold</b> & ]]> 😀 \u2028 {{ ticket.id }} %41 a=b&c#d';

const xml = new XMLParser({ processEntities: true, htmlEntities: true, trimValues: false, parseTagValue: false, ignoreAttributes: false });

function webhook(patch: Partial<WebhookDef> = {}): WebhookDef {
  return {
    id: '5',
    name: 'Test',
    method: 'POST',
    url: 'https://example.com/hook',
    format: 'JSON',
    body: '',
    headers: [],
    auth: { type: 'NONE', username: null, secret: null },
    responseMappings: [],
    successComment: '',
    ...patch,
  };
}

function ctx(patch: (c: TemplateContext) => void = () => {}): TemplateContext {
  const c = sampleContext();
  patch(c);
  return c;
}

const withTitle = ctx((c) => (c.ticket!.title = TITLE));

describe('values keep their meaning in every format', () => {
  it('Telegram sendMessage: JSON body parses back to the exact values', () => {
    const { request, authorization } = renderRequest(
      webhook({
        url: 'https://api.telegram.org/bot123456:ABC-def_ghi/sendMessage',
        body: '{"chat_id": "{{ assignee.telegramChatId }}", "text": "New ticket: {{ ticket.title }}"}',
      }),
      withTitle,
      UA,
    );
    expect(request.method).toBe('POST');
    expect(request.url).toBe('https://api.telegram.org/bot123456:ABC-def_ghi/sendMessage');
    expect(JSON.parse(request.body!)).toEqual({ chat_id: '987654321', text: `New ticket: ${TITLE}` });
    expect(request.headers).toEqual({ 'Content-Type': 'application/json; charset=utf-8', 'User-Agent': 'deskhooks/0.1.0' });
    expect(authorization).toBeNull();
  });

  it('XML body: well-formed, parsed text equals the original', () => {
    const { request } = renderRequest(
      webhook({
        format: 'XML',
        body: '<?xml version="1.0" encoding="UTF-8"?>\n<message id="{{ ticket.id }}" title="{{ ticket.title }}">\n  <chat>{{ assignee.telegramChatId }}</chat>\n  <text>New ticket: {{ ticket.title }}</text>\n</message>',
      }),
      withTitle,
      UA,
    );
    expect(request.headers['Content-Type']).toBe('application/xml; charset=utf-8');
    const doc = xml.parse(request.body!) as { message: { chat: string; text: string; '@_id': string } };
    expect(doc.message.text).toBe(`New ticket: ${TITLE}`);
    expect(doc.message.chat).toBe('987654321');
    expect(doc.message['@_id']).toBe('42');
  });

  it('XML body: in an attribute value a line break or tab goes as a character reference (a parser would read a space), in element text as it is', () => {
    const title = 'line 1\nline 2\tend';
    const { request } = renderRequest(
      webhook({ format: 'XML', body: `<sms to="{{ requester.phone }}" a="1>2" text="{{ ticket.title }}" note='{{ ticket.title }}'><t>{{ ticket.title }}</t></sms>` }),
      ctx((c) => (c.ticket!.title = title)),
      UA,
    );
    expect(request.body).toBe(`<sms to="+15551234567" a="1>2" text="line 1&#10;line 2&#9;end" note='line 1&#10;line 2&#9;end'><t>line 1\nline 2\tend</t></sms>`);
    const doc = xml.parse(request.body!) as { sms: { t: string; '@_text': string; '@_note': string } };
    expect([doc.sms['@_text'], doc.sms['@_note'], doc.sms.t]).toEqual([title, title, title]);
  });

  it('XML body: a tag inside a CDATA section is not entity-escaped; "]]>" in the value is split', () => {
    const { request } = renderRequest(webhook({ format: 'XML', body: '<m><t><![CDATA[{{ ticket.title }}]]></t><a>{{ ticket.title }}</a></m>' }), withTitle, UA);
    expect(request.body).toContain('<![CDATA[He said "quotes", a back\\slash,\na newline and <b>bold</b> & ]]]]><![CDATA[> 😀');
    const doc = xml.parse(request.body!) as { m: { t: string; a: string } };
    expect(doc.m.t).toBe(TITLE);
    expect(doc.m.a).toBe(TITLE);
  });

  const FORM_BODY = 'phone={{ requester.phone }}&message=Ticket {{ ticket.id }}: {{ ticket.title }}';

  it('FORM body: literal text is form-encoded too, "&", "=", "+" and percent-escapes stay', () => {
    const { request } = renderRequest(webhook({ format: 'FORM', body: 'text=Ticket #{ticket_id}: é ok&a+b=1%2B1' }), ctx(), UA);
    expect(request.body).toBe('text=Ticket+%2342%3A+%C3%A9+ok&a+b=1%2B1');
    expect([...new URLSearchParams(request.body!)]).toEqual([['text', 'Ticket #42: é ok'], ['a b', '1+1']]);
  });

  it('FORM body: URLSearchParams gives back the exact values', () => {
    const { request } = renderRequest(webhook({ format: 'FORM', body: FORM_BODY }), withTitle, UA);
    expect(request.headers['Content-Type']).toBe('application/x-www-form-urlencoded');
    const params = new URLSearchParams(request.body!);
    expect([...params.keys()]).toEqual(['phone', 'message']);
    expect(params.get('phone')).toBe('+15551234567');
    expect(params.get('message')).toBe(`Ticket 42: ${TITLE}`);
  });

  it('FORM body laid out over lines: the line breaks at its ends and around "&" belong to no name or value; one inside a value stays', () => {
    const body = '\nphone={{ requester.phone }}&\r\n  message=Ticket {{ ticket.id }}\n&note=line 1\nline 2\n';
    const { request } = renderRequest(webhook({ format: 'FORM', body }), ctx(), UA);
    expect(request.body).toBe('phone=%2B15551234567&message=Ticket+42&note=line+1%0Aline+2');
    const get = renderRequest(webhook({ method: 'GET', format: 'FORM', url: 'https://sms.example.com/send', body }), ctx(), UA).request;
    expect([...new URL(get.url).searchParams]).toEqual([['phone', '+15551234567'], ['message', 'Ticket 42'], ['note', 'line 1\nline 2']]);
    expect(validateWebhookDefinition({ method: 'POST', url: 'https://sms.example.com/send', format: 'FORM', body })).toEqual([]);
  });

  it('FORM body with GET: the values are in the query string, no body', () => {
    const { request } = renderRequest(
      webhook({ method: 'GET', format: 'FORM', url: 'https://sms.example.com/send?key=abc#frag', body: FORM_BODY }),
      withTitle,
      UA,
    );
    expect(request.body).toBeNull();
    expect(request.headers['Content-Type']).toBeUndefined();
    const url = new URL(request.url);
    expect(url.searchParams.get('key')).toBe('abc');
    expect(url.searchParams.get('phone')).toBe('+15551234567');
    expect(url.searchParams.get('message')).toBe(`Ticket 42: ${TITLE}`);
    expect(url.hash).toBe('#frag');
  });

  it('{parent_ticket_id} and {{ ticket.custom.x }} in a URL are percent-encoded', () => {
    const value = 'A/1?x=1&y #z';
    const { request } = renderRequest(
      webhook({ url: 'https://crm.example.com/tickets/{parent_ticket_id}/orders/{{ ticket.custom.x }}?q={{ ticket.custom.x }}' }),
      ctx((c) => {
        c.ticket!.custom.x = value;
        c.parent!.id = '4/1';
      }),
      UA,
    );
    const url = new URL(request.url);
    expect(url.host).toBe('crm.example.com');
    const parts = url.pathname.split('/');
    expect(parts.map(decodeURIComponent)).toEqual(['', 'tickets', '4/1', 'orders', value]);
    expect(url.searchParams.get('q')).toBe(value);
    expect([...url.searchParams.keys()]).toEqual(['q']);
    expect(url.hash).toBe('');
  });
});

describe('renderRequest', () => {
  it('renders header values with header escaping and keeps Authorization apart', () => {
    const { request, authorization } = renderRequest(
      webhook({
        body: '{"a":"b"}',
        headers: [
          { name: 'X-Title', value: 'T: {{ ticket.title }}' },
          { name: 'X-Id', value: '{ticket_id}' },
        ],
        auth: { type: 'BEARER', username: null, secret: 's3cret' },
      }),
      withTitle,
      UA,
    );
    expect(request.headers['X-Title']).toBe(`T: ${TITLE.replace(/\n/g, '')}`);
    expect(request.headers['X-Id']).toBe('42');
    expect(Object.keys(request.headers).map((k) => k.toLowerCase())).not.toContain('authorization');
    expect(JSON.stringify(request)).not.toContain('s3cret');
    expect(authorization).toBe('Bearer s3cret');
  });

  it.each([
    ['\r\nX-Injected: 1', 'X-Injected: 1'],
    ['a\u0000b\u007fc\td', 'abc\td'],
  ])('header value %j cannot inject', (value, expected) => {
    const { request } = renderRequest(
      webhook({ headers: [{ name: 'X-V', value: '{{ ticket.custom.v }}' }] }),
      ctx((c) => (c.ticket!.custom.v = value)),
      UA,
    );
    expect(request.headers['X-V']).toBe(expected);
  });

  it('lets a webhook header replace a default one', () => {
    const { request } = renderRequest(
      webhook({ format: 'XML', body: '<a/>', headers: [{ name: 'content-type', value: 'text/xml' }, { name: 'user-agent', value: 'custom' }] }),
      ctx(),
      UA,
    );
    expect(request.headers).toEqual({ 'content-type': 'text/xml', 'user-agent': 'custom' });
  });

  it.each([
    ['BASIC', 'user', 'pa:ss é', 'Basic ' + Buffer.from('user:pa:ss é').toString('base64')],
    ['BEARER', null, 'tok-123', 'Bearer tok-123'],
    ['NONE', null, null, null],
  ] as const)('authorization %s', (type, username, secret, expected) => {
    const { authorization } = renderRequest(webhook({ auth: { type, username, secret } }), ctx(), UA);
    expect(authorization).toBe(expected);
  });

  it.each([
    [{ type: 'BASIC', username: 'u', secret: null }, /needs a username and a password/],
    [{ type: 'BASIC', username: null, secret: 'p' }, /needs a username and a password/],
    [{ type: 'BEARER', username: null, secret: '' }, /needs a token/],
    [{ type: 'BEARER', username: null, secret: 'a\r\nb' }, /control characters/],
  ] as const)('authorization %j is refused', (auth, message) => {
    expect(() => authorizationFor(auth)).toThrow(message);
  });

  it.each([
    ['', 'POST', 'JSON'],
    ['   \n ', 'POST', 'XML'],
    ['', 'GET', 'JSON'],
    ['', 'DELETE', 'FORM'],
  ] as const)('empty body %j → null body and no Content-Type', (body, method, format) => {
    const { request } = renderRequest(webhook({ body, method, format }), ctx(), UA);
    expect(request.body).toBeNull();
    expect(request.headers['Content-Type']).toBeUndefined();
    expect(request.headers['User-Agent']).toBe('deskhooks/0.1.0');
  });

  it.each([
    ['https://x.example/a', 'a=1', 'https://x.example/a?a=1'],
    ['https://x.example/a?', 'a=1', 'https://x.example/a?a=1'],
    ['https://x.example/a?b=2', 'a=1', 'https://x.example/a?b=2&a=1'],
    ['https://x.example/a?b=2&', 'a=1', 'https://x.example/a?b=2&a=1'],
    ['https://x.example/a#f', 'a=1', 'https://x.example/a?a=1#f'],
    ['https://x.example/a?b#f?g', 'a=1', 'https://x.example/a?b&a=1#f?g'],
    ['https://x.example/a', '', 'https://x.example/a'],
  ])('appendQuery(%j, %j)', (url, query, expected) => {
    expect(appendQuery(url, query)).toBe(expected);
  });

  it.each<[Partial<WebhookDef>, (c: TemplateContext) => void, RegExp]>([
    [{ url: 'ftp://example.com/x' }, () => {}, /must use http or https, not ftp/],
    [{ url: 'javascript:alert(1)' }, () => {}, /must use http or https/],
    [{ url: '/relative/path' }, () => {}, /not an absolute URL/],
    // saved before tags next to the host were refused: never rendered
    [{ url: '{{ ticket.custom.url }}' }, (c) => (c.ticket!.custom.url = 'https://evil.example/'), /^url: a tag at 1:1 comes before the end of scheme:\/\/host:port/],
    [{ url: 'https://{{ ticket.custom.host }}/x' }, (c) => (c.ticket!.custom.host = 'a b'), /^url: a tag at 1:9 comes before the end of scheme:\/\/host:port/],
    [{ method: 'GET', body: '{"a":1}', format: 'JSON' }, () => {}, /GET request cannot carry a JSON body/],
    [{ method: 'GET', body: '<a/>', format: 'XML' }, () => {}, /GET request cannot carry a XML body/],
    [{ url: 'https://x.example/{{ nope }}' }, () => {}, /^url: unknown tag "nope" at 1:19/],
    [{ headers: [{ name: 'Host', value: 'x' }] }, () => {}, /header "Host" is taken from the URL/],
    [{ headers: [{ name: 'Bad Name', value: 'x' }] }, () => {}, /not a valid HTTP token/],
  ])('refuses %j', (patch, patchCtx, message) => {
    let err: unknown;
    try {
      renderRequest(webhook(patch), ctx(patchCtx), UA);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RequestRenderError);
    expect((err as RequestRenderError).message).toMatch(message);
    expect((err as RequestRenderError).retryable).toBe(false);
  });

  it('a value cannot change the host', () => {
    const { request } = renderRequest(
      webhook({ url: 'https://api.example.com/{{ ticket.custom.p }}' }),
      ctx((c) => (c.ticket!.custom.p = '@evil.example/../../x')),
      UA,
    );
    expect(new URL(request.url).host).toBe('api.example.com');
  });

  it('a path segment that tags alone leave empty is not sent, naming the tag; a literal "//", a segment with text, and empty query values are', () => {
    const noParent = ctx((c) => {
      c.parent = null;
      c.ticket!.custom.x = '';
    });
    const refused = (url: string): string => {
      try {
        renderRequest(webhook({ url }), noParent, UA);
      } catch (e) {
        expect(e).toBeInstanceOf(RequestRenderError);
        expect((e as RequestRenderError).retryable).toBe(false);
        return (e as Error).message;
      }
      throw new Error(`${url} was rendered`);
    };
    expect(refused('https://x.example/api/tickets/{{ parent.id }}/comments')).toBe(
      'url: {{ parent.id }} (1:31) rendered empty, leaving path segment 3 ("tickets/{{ parent.id }}/comments") empty; the request would name another resource, so it is not sent',
    );
    expect(refused('https://x.example/t/{parent_ticket_id}{{ ticket.custom.x }}?q=1')).toMatch(/^url: \{parent_ticket_id\} \(1:21\) and \{\{ ticket\.custom\.x \}\} \(1:39\) rendered empty, leaving path segment 2 \("t\/\{parent_ticket_id\}\{\{ ticket\.custom\.x \}\}"\)/);
    expect(refused('https://x.example/{ticket_id}/{{ parent.id }}')).toContain('{{ parent.id }} (1:31) rendered empty, leaving path segment 2');
    expect(refused('https://x.example\\a\\{{ parent.id }}\\b')).toContain('leaving path segment 2');
    for (const [url, sent] of [
      ['https://x.example//api/{{ ticket.id }}/c', 'https://x.example//api/42/c'],
      ['https://x.example/api/p{{ parent.id }}/c', 'https://x.example/api/p/c'],
      ['https://x.example/api/{{ parent.id }}{ticket_id}/c', 'https://x.example/api/42/c'],
      ['https://x.example/api?p={{ parent.id }}&q={{ ticket.custom.x }}', 'https://x.example/api?p=&q='],
      ['https://x.example/api#/{{ parent.id }}/', 'https://x.example/api#//'],
    ] as const) {
      expect(renderRequest(webhook({ url }), noParent, UA).request.url, url).toBe(sent);
    }
  });

  it('is deterministic and does not mutate its inputs', () => {
    const def = webhook({ body: '{"t":"{{ ticket.title }}"}', headers: [{ name: 'X-A', value: '{{ ticket.id }}' }] });
    const c = ctx();
    const before = JSON.stringify([def, c]);
    expect(renderRequest(def, c, UA)).toEqual(renderRequest(def, c, UA));
    expect(JSON.stringify([def, c])).toBe(before);
  });
});

describe('preview', () => {
  it.each([
    ['BASIC', 'Basic ***'],
    ['BEARER', 'Bearer ***'],
    ['NONE', null],
  ] as const)('redactedAuthorization(%s)', (type, expected) => {
    expect(redactedAuthorization(type)).toBe(expected);
  });

  it('is the request as it would be sent, with the credentials redacted and no secret needed', () => {
    const def = webhook({
      body: '{"t":"{{ ticket.title }}"}',
      auth: { type: 'BASIC', username: 'api', secret: null },
    });
    const preview = previewRequest(def, withTitle, UA);
    const { request } = renderRequest({ ...def, auth: { ...def.auth, secret: 'pw' } }, withTitle, UA);
    expect(preview).toEqual({ ...request, headers: { ...request.headers, Authorization: 'Basic ***' } });
  });

  it('has no Authorization without auth', () => {
    expect(previewRequest(webhook(), ctx(), UA).headers).toEqual({ 'User-Agent': 'deskhooks/0.1.0' });
  });
});

describe('validateWebhookDefinition', () => {
  const valid: WebhookDefinitionInput = {
    method: 'POST',
    url: 'https://api.telegram.org/bot{{ ticket.custom.token }}/sendMessage',
    format: 'JSON',
    body: '{"chat_id": "{{ assignee.telegramChatId }}", "text": "New ticket: {{ ticket.title }} {{ temp.sms_id }}"}',
    headers: [{ name: 'X-Request-Id', value: '{{ delivery.id }}' }],
    auth: { type: 'NONE', username: null, hasSecret: false },
    responseMappings: [
      { path: 'result.message_id', target: 'TEMPORARY', field: 'message_id' },
      { path: 'items[0].id', target: 'CUSTOM_FIELD', field: 'ext_id' },
      { path: 'reply.message_infos.message_info.sms_id', target: 'TEMPORARY', field: 'sms_id' },
    ],
    successComment: 'Sent: {{ response.status }} {{ temp.message_id }}',
  };

  it('accepts a valid definition', () => {
    expect(validateWebhookDefinition(valid)).toEqual([]);
  });

  it.each<[string, Partial<WebhookDefinitionInput>]>([
    ['XML body', { format: 'XML', body: '<?xml version="1.0"?><m a="{{ ticket.title }}"><t>{{ ticket.title }}</t></m>' }],
    ['FORM body', { format: 'FORM', body: 'phone={{ requester.phone }}&message=Ticket {{ ticket.id }}: {{ ticket.title }}' }],
    ['GET with FORM', { method: 'GET', format: 'FORM', body: 'q={{ ticket.id }}' }],
    ['FORM body with tags in names, "+", percent-escapes and "=" in a value', { format: 'FORM', body: '{{ temp.k }}=1&a+b=%41%2b&c=x=y&{ticket_id}=' }],
    ['XML body declaring UTF-8', { format: 'XML', body: '\uFEFF<?xml version="1.0" encoding="utf-8"?><a>{{ ticket.title }}</a>' }],
    ['a Content-Type of its own in UTF-8 or without a charset', { format: 'XML', body: '<a>{{ ticket.title }}</a>', headers: [{ name: 'content-type', value: 'text/xml; charset="UTF-8"' }, { name: 'X-Type', value: 'text/plain; charset=koi8-r' }] }],
    ['a Content-Type of its own without a charset', { format: 'FORM', body: 'a={{ ticket.id }}', headers: [{ name: 'Content-Type', value: 'application/x-www-form-urlencoded' }] }],
    ['XML body with a tag inside a CDATA section', { format: 'XML', body: '<a><![CDATA[{{ ticket.title }}]]><!-- a note --></a>' }],
    ['XML body with elements named as prototype keys and Object methods', { format: 'XML', body: '<constructor><prototype>1</prototype><__proto__/><toString>{{ ticket.id }}</toString></constructor>' }],
    ['GET without body', { method: 'GET', format: 'JSON', body: '' }],
    ['BASIC with secret', { auth: { type: 'BASIC', username: 'u', hasSecret: true } }],
    ['BEARER with secret', { auth: { type: 'BEARER', username: null, hasSecret: true } }],
    ['optional fields omitted', { body: undefined, headers: undefined, auth: undefined, responseMappings: undefined, successComment: undefined }],
  ])('accepts %s', (_, patch) => {
    expect(validateWebhookDefinition({ ...valid, ...patch })).toEqual([]);
  });

  it.each<[Partial<WebhookDefinitionInput>, string, RegExp]>([
    [{ url: '' }, 'url', /required/],
    [{ url: 'https://x.example/{{ ticket.nope }}' }, 'url', /unknown tag "ticket.nope" at 1:19/],
    [{ url: 'ftp://x.example/' }, 'url', /http or https/],
    [{ url: '{{ ticket.url }}' }, 'url', /a tag at 1:1 comes before the end of scheme:\/\/host:port/],
    [{ url: 'https://user:pw@x.example/' }, 'url', /credentials/],
    [{ method: 'GET', format: 'JSON' }, 'body', /GET request cannot carry a JSON body/],
    [{ method: 'GET', format: 'XML', body: '<a/>' }, 'body', /GET request cannot carry a XML body/],
    [{ body: '{"a": "{{ ticket.id }}",\n"b": {{ process.env }}}' }, 'body', /invalid tag .* at 2:6|unknown tag "process.env" at 2:6/],
    [{ body: '{"a": "{{ ticket.id }}"' }, 'body', /not valid with sample values/],
    [{ body: '{"a": {{ ticket.id }}}' }, 'body', /not valid when values are empty.*inside a JSON string/],
    [{ body: '{"a": "{{ ticket.title }}", "p": {{ parent.id }}}' }, 'body', /not valid when values are empty/],
    [{ format: 'XML', body: '<a>{{ ticket.id }}</b>' }, 'body', /XML body is not valid with sample values: Expected closing tag/],
    [{ format: 'XML', body: '<a>1</a><b>2</b>' }, 'body', /root/],
    [{ format: 'XML', body: '<a>1</a><b/>' }, 'body', /exactly one root element/],
    [{ format: 'XML', body: '<constructor/><constructor/>' }, 'body', /exactly one root element/],
    [{ format: 'XML', body: '<a>1</a><a>2</a>' }, 'body', /root/],
    [{ format: 'XML', body: '<{{ ticket.custom.tag }}>x</{{ ticket.custom.tag }}>' }, 'body', /not valid when values are empty/],
    [{ format: 'XML', body: '<a>{{ response.body }}</a>' }, 'body', /only available in successComment/],
    [{ headers: [{ name: 'X-Ok', value: 'a' }, { name: 'Bad Name', value: 'b' }] }, 'headers[1].name', /not a valid HTTP token/],
    [{ headers: [{ name: '', value: 'b' }] }, 'headers[0].name', /required/],
    [{ headers: [{ name: 'Content-Length', value: '1' }] }, 'headers[0].name', /computed from the body/],
    [{ headers: [{ name: 'host', value: 'x' }] }, 'headers[0].name', /taken from the URL/],
    [{ headers: [{ name: 'Authorization', value: 'Bearer x' }] }, 'headers[0].name', /set through auth/],
    [{ headers: [{ name: 'Transfer-Encoding', value: 'chunked' }] }, 'headers[0].name', /HTTP client/],
    [{ headers: [{ name: 'Connection', value: 'close' }] }, 'headers[0].name', /HTTP client/],
    [{ headers: [{ name: 'X-Deskhooks-Delivery', value: '1' }] }, 'headers[0].name', /added to every request/],
    [{ headers: [{ name: 'webhook-id', value: 'fixed' }] }, 'headers[0].name', /"webhook-id" is a signing header/],
    [{ headers: [{ name: 'X-Ok', value: 'a' }, { name: 'Webhook-Timestamp', value: '1' }] }, 'headers[1].name', /"Webhook-Timestamp" is a signing header/],
    [{ headers: [{ name: 'WEBHOOK-SIGNATURE', value: 'v1,Zm9yZ2Vk' }] }, 'headers[0].name', /signing header/],
    [{ format: 'XML', body: '<a>\n  <!-- {{ ticket.title }} --></a>' }, 'body', /tag "\{\{ ticket.title \}\}" at 2:8 is inside an XML comment/],
    [{ format: 'XML', body: '<a><!-- {ticket_id} --></a>' }, 'body', /tag "\{ticket_id\}" at 1:9 is inside an XML comment/],
    // a processing instruction or the declaration has no escaping either: the receiver would read "it&apos;s"
    [{ format: 'XML', body: '<a><?note {{ ticket.title }}?></a>' }, 'body', /tag "\{\{ ticket.title \}\}" at 1:11 is inside an XML processing instruction or declaration/],
    [{ format: 'XML', body: '<?xml version="1.0" encoding="{{ ticket.custom.order_no }}"?><a/>' }, 'body', /at 1:31 is inside an XML processing instruction/],
    // the body goes out in UTF-8: a declaration naming another encoding would have the receiver read other characters
    [{ format: 'XML', body: '<?xml version="1.0" encoding="windows-1251"?>\n<sms>{{ ticket.title }}</sms>' }, 'body', /^the XML declaration says encoding="windows-1251", but the body is sent in UTF-8/],
    [{ format: 'XML', body: '<sms>{{ ticket.title }}</sms>', headers: [{ name: 'Content-Type', value: 'text/xml; charset=windows-1251' }] }, 'headers[0].value', /^the Content-Type names charset=windows-1251, but the body is sent in UTF-8/],
    [{ format: 'FORM', body: 'text={{ ticket.title }}', headers: [{ name: 'X-Id', value: '1' }, { name: 'CONTENT-TYPE', value: 'application/x-www-form-urlencoded;charset="cp1251"' }] }, 'headers[1].value', /charset=cp1251/],
    [{ format: 'XML', body: "<?xml version='1.0' encoding='ISO-8859-1' standalone='yes'?><a/>" }, 'body', /encoding="ISO-8859-1"/],
    [{ format: 'XML', body: '<a><!-- a -- b --></a>' }, 'body', /XML body is not valid with sample values: a comment must not contain "--"/],
    [{ format: 'XML', body: '<a><!-- a ---></a>' }, 'body', /a comment must not contain "--" nor end with "-"/],
    [{ format: 'FORM', body: 'hello world' }, 'body', /FORM body has a pair without "=" at 1:1/],
    [{ format: 'FORM', body: 'a=x y&b=%zz' }, 'body', /"%" without two hex digits after it at 1:9/],
    [{ format: 'FORM', body: '=x&&b' }, 'body', /FORM body has a pair with an empty name at 1:1/],
    [{ format: 'FORM', body: 'a=1&&b=2' }, 'body', /FORM body has an empty pair at 1:5/],
    [{ format: 'FORM', body: 'a=1&' }, 'body', /FORM body has an empty pair at 1:5/],
    [{ format: 'FORM', body: 'a={{ ticket.id }}&\nb' }, 'body', /FORM body has a pair without "=" at 2:1/],
    [{ format: 'FORM', body: 'a={{ ticket.id }}&\n' }, 'body', /FORM body has an empty pair at 2:1/],
    [{ format: 'FORM', body: 'a=%{{ ticket.id }}' }, 'body', /"%" without two hex digits after it at 1:3/],
    [{ method: 'GET', format: 'FORM', body: 'q=100%' }, 'body', /"%" without two hex digits after it at 1:6/],
    [{ headers: [{ name: 'X-A', value: '1' }, { name: 'x-a', value: '2' }] }, 'headers[1].name', /given twice/],
    [{ headers: [{ name: 'X-A', value: '{{ ticket.id' }] }, 'headers[0].value', /unclosed tag "\{\{" at 1:1/],
    [{ headers: [{ name: 'X-A', value: 'a\r\nX-B: b' }] }, 'headers[0].value', /line breaks/],
    [{ auth: { type: 'BASIC', username: '', hasSecret: true } }, 'auth.username', /needs a username/],
    [{ auth: { type: 'BASIC', username: 'a:b', hasSecret: true } }, 'auth.username', /must not contain ":"/],
    [{ auth: { type: 'BASIC', username: 'u', hasSecret: false } }, 'auth.secret', /needs a password/],
    [{ auth: { type: 'BEARER', username: null, hasSecret: false } }, 'auth.secret', /needs a token/],
    [{ successComment: 'Done {{ response.nope }}' }, 'successComment', /unknown tag "response.nope" at 1:6/],
    [{ successComment: '{{ ticket.constructor }}' }, 'successComment', /"constructor" is not allowed/],
    [{ responseMappings: [{ path: 'a..b', target: 'TEMPORARY', field: 'x' }] }, 'responseMappings[0].path', /empty key/],
    [{ responseMappings: [{ path: 'ok', target: 'TEMPORARY', field: 'x' }, { path: 'a[x]', target: 'TEMPORARY', field: 'y' }] }, 'responseMappings[1].path', /index/],
    [{ responseMappings: [{ path: 'a.__proto__', target: 'TEMPORARY', field: 'x' }] }, 'responseMappings[0].path', /not allowed/],
  ])('%j → %s', (patch, field, message) => {
    const problems = validateWebhookDefinition({ ...valid, ...patch });
    expect(problems).toHaveLength(1);
    expect(problems[0]!.field).toBe(field);
    expect(problems[0]!.message).toMatch(message);
  });

  it('reports every problem at once', () => {
    const problems = validateWebhookDefinition({
      ...valid,
      url: 'nope',
      body: '{{ x }}',
      headers: [{ name: 'Host', value: '{{ y }}' }],
      auth: { type: 'BASIC', username: null, hasSecret: false },
      responseMappings: [{ path: '', target: 'TEMPORARY', field: 't' }],
      successComment: '{{ z }}',
    });
    expect(problems.map((p) => p.field)).toEqual([
      'url',
      'body',
      'headers[0].name',
      'headers[0].value',
      'auth.username',
      'auth.secret',
      'responseMappings[0].path',
      'successComment',
    ]);
  });
});

describe('parseMappingPath', () => {
  it.each([
    ['result.message_id', ['result', 'message_id']],
    ['items[0].id', ['items', 0, 'id']],
    ['reply.message_infos.message_info.sms_id', ['reply', 'message_infos', 'message_info', 'sms_id']],
  ])('%s', (path, expected) => {
    expect(parseMappingPath(path)).toEqual(expected);
  });

  it.each(['', 'a..b', 'a[', 'a[b]', '.a', 'a.'])('refuses %j', (path) => {
    expect(() => parseMappingPath(path)).toThrow();
  });
});

describe('content types', () => {
  it('match the contract', () => {
    expect(CONTENT_TYPES).toEqual({
      JSON: 'application/json; charset=utf-8',
      XML: 'application/xml; charset=utf-8',
      FORM: 'application/x-www-form-urlencoded',
    });
  });
});

describe('tags before the end of scheme://host:port', () => {
  it.each([
    'https://hooks.example.com{{ ticket.custom.order_no }}/notify',
    'https://hooks.example.com{ticket_id}/notify',
    'https://{{ requester.name }}@hooks.example.com/x',
    'https://user{parent_ticket_id}@hooks.example.com/x',
    '{{ ticket.custom.url }}',
    '{ticket_id}',
    'https://{{ ticket.custom.host }}/x',
    'https://hooks.example.com:{{ ticket.id }}/x',
    'http{{ ticket.id }}://hooks.example.com/x',
    'https:{{ ticket.custom.x }}',
    'https:/{{ ticket.custom.x }}/x',
    'https:///{{ ticket.custom.x }}/x',
    'https://hooks.example.com\n{{ ticket.custom.x }}/x',
    'https://hooks.example.com\t/{{ ticket.custom.x }}',
    '  https://hooks.example.com{{ ticket.custom.x }}/',
  ])('refuses %j', (url) => {
    if (url === 'https://hooks.example.com\t/{{ ticket.custom.x }}') {
      // the URL parser removes the tab: the "/" still ends the host
      expect(urlTagProblem(url)).toBeNull();
      return;
    }
    expect(urlTagProblem(url)).toMatch(/comes before the end of scheme:\/\/host:port/);
    expect(validateWebhookDefinition({ method: 'POST', url, format: 'JSON' }).map((p) => p.field)).toContain('url');
  });

  it.each([
    'https://hooks.example.com/notify',
    'https://hooks.example.com/{{ ticket.custom.order_no }}/notify',
    'https://hooks.example.com?x={{ ticket.id }}',
    'https://hooks.example.com#{ticket_id}',
    'https://hooks.example.com:8443/t/{ticket_id}?p={parent_ticket_id}',
    'http://[::1]:8080/{{ ticket.id }}',
    'https://hooks.example.com\\{{ ticket.id }}',
    'https://api.telegram.org/bot{{ ticket.custom.token }}/sendMessage',
    'https://hooks.example.com/a{b}c',
  ])('accepts %j', (url) => {
    expect(urlTagProblem(url)).toBeNull();
  });

  it('the position names the first tag; a value next to the host is not rendered at send time', () => {
    expect(urlTagProblem('https://a.example{{ ticket.id }}/')).toMatch(/^a tag at 1:18 /);
    const def = webhook({ url: 'https://hooks.example.com{{ ticket.custom.order_no }}/notify' });
    const c = ctx((x) => (x.ticket!.custom.order_no = '.attacker.example'));
    let err: unknown;
    try {
      renderRequest(def, c, UA);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RequestRenderError);
    expect((err as RequestRenderError).field).toBe('url');
    expect(() => previewRequest(def, c, UA)).toThrow(RequestRenderError);
  });
});

describe('secret headers', () => {
  const KEY = 'k3y-{{ nope }}-{ticket_id}-S3CR3T';
  const def = webhook({ headers: [{ name: 'X-Api-Key', value: KEY, secret: true }, { name: 'X-Plain', value: '{{ ticket.id }}' }], auth: { type: 'BEARER', username: null, secret: 'tok' } });

  it('are *** in the request and the preview; the real value, as written, comes apart', () => {
    const { request, authorization, secretHeaders } = renderRequest(def, ctx(), UA);
    expect(request.headers['X-Api-Key']).toBe('***');
    expect(request.headers['X-Plain']).toBe(sampleContext().ticket!.id);
    expect(secretHeaders).toEqual({ 'X-Api-Key': KEY });
    expect(authorization).toBe('Bearer tok');
    expect(JSON.stringify(request)).not.toContain('S3CR3T');
    const preview = previewRequest(def, ctx(), UA);
    expect(preview.headers).toMatchObject({ 'X-Api-Key': '***', Authorization: 'Bearer ***' });
    expect(JSON.stringify(preview)).not.toContain('S3CR3T');
  });

  it('a secret value is not a template (its braces are not checked), but control characters are refused without echoing it', () => {
    const base = { method: 'POST' as const, url: 'https://x.example/', format: 'JSON' as const };
    expect(validateWebhookDefinition({ ...base, headers: [{ name: 'X-Api-Key', value: KEY, secret: true }] })).toEqual([]);
    expect(validateWebhookDefinition({ ...base, headers: [{ name: 'X-Api-Key', value: KEY }] }).map((p) => p.field)).toEqual(['headers[0].value']);
    const bad = validateWebhookDefinition({ ...base, headers: [{ name: 'X-Api-Key', value: 'S3CR3T\r\nX: y', secret: true }] });
    expect(bad.map((p) => p.field)).toEqual(['headers[0].value']);
    expect(JSON.stringify(bad)).not.toContain('S3CR3T');
  });

  it('credentials are sealed together and opened at send time; a bare sealed Authorization (older deliveries) still opens', () => {
    const box = createSecretBox(Buffer.alloc(32, 7));
    const sealed = sealCredentials(box, { 'X-Api-Key': KEY, Authorization: 'Bearer tok' })!;
    expect(sealed).not.toContain('S3CR3T');
    expect(openCredentials(box, sealed)).toEqual({ 'X-Api-Key': KEY, Authorization: 'Bearer tok' });
    expect(openCredentials(box, box.seal('Basic dTpw'))).toEqual({ Authorization: 'Basic dTpw' });
    expect(sealCredentials(box, {})).toBeNull();
    expect(() => openCredentials(box, box.seal('{"broken S3CR3T'))).toThrow(/not a header map/);
    try {
      openCredentials(box, box.seal('{"broken S3CR3T'));
    } catch (e) {
      expect((e as Error).message).not.toContain('S3CR3T');
    }
  });
});
