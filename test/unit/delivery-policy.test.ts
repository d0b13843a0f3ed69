/**
 * The per-attempt delivery policy, pure: success rules (statuses, path checks, save-time
 * problems), Retry-After and 410 in the retry policy, Standard Webhooks signatures as the
 * `standardwebhooks` package verifies them.
 */
import { describe, expect, it } from 'vitest';
import { Webhook as Verifier } from 'standardwebhooks';
import { createRetryPolicy, retryAfterTime } from '../../src/delivery/policy.js';
import { judgeAnswer, parseStatuses, successRuleOf, successRuleProblems } from '../../src/delivery/success-rule.js';
import { newSigningSecret, signatureHeaders, signingKey } from '../../src/delivery/signing.js';
import type { AttemptResult } from '../../src/delivery/types.js';
import type { SuccessRuleDef } from '../../src/domain/index.js';

const now = new Date('2026-11-30T10:00:00.000Z');

function answer(statusCode: number, body = '', contentType: string | null = null, retryAfter: string | null = null): AttemptResult {
  return {
    startedAt: now,
    durationMs: 5,
    statusCode,
    error: statusCode >= 400 ? `HTTP ${statusCode}` : null,
    errorClass: statusCode >= 400 ? 'http_status' : 'none',
    responseBody: body,
    responseContentType: contentType,
    responseTruncated: false,
    retryAfter,
  };
}

const rule = (r: Partial<SuccessRuleDef>): SuccessRuleDef => successRuleOf(r);

describe('success rule statuses', () => {
  it.each([
    ['200-299', [[200, 299]]],
    ['200,201,204', [[200, 200], [201, 201], [204, 204]]],
    [' 200 - 204 , 304 ', [[200, 204], [304, 304]]],
    ['100-599', [[100, 599]]],
  ])('%j parses', (text, ranges) => expect(parseStatuses(text)).toEqual(ranges));

  it.each([
    ['', /at least one/],
    ['99', /not a status code/],
    ['600', /not a status code/],
    ['2xx', /not a status code/],
    ['299-200', /low end above its high end/],
    ['200,,201', /empty entry/],
    ['200-', /not a status code/],
  ])('%j is refused', (text, message) => expect(() => parseStatuses(text)).toThrow(message));
});

describe('success rule problems at save, each naming the nested field', () => {
  it.each([
    [{ statuses: '700' }, 'successRule.statuses'],
    [{ statuses: '300-200' }, 'successRule.statuses'],
    [{ path: 'reply..result', operator: 'EQUALS', value: 'OK' }, 'successRule.path'],
    [{ path: 'reply.result' }, 'successRule.operator'],
    [{ path: 'reply.result', operator: 'CHANGED' }, 'successRule.operator'],
    [{ path: 'reply.result', operator: 'CHANGED_TO', value: 'OK' }, 'successRule.operator'],
    [{ path: 'reply.result', operator: 'CHANGED_FROM', value: 'OK' }, 'successRule.operator'],
    [{ path: 'reply.result', operator: 'EQUALS' }, 'successRule.value'],
    [{ path: 'reply.result', operator: 'CONTAINS' }, 'successRule.value'],
    [{ path: 'n', operator: 'GREATER_THAN' }, 'successRule.value'],
    [{ path: 'n', operator: 'LESS_THAN', value: 'ten' }, 'successRule.value'],
    [{ operator: 'EQUALS', value: 'OK' }, 'successRule.path'],
    // a value the rule would not use is refused, not silently dropped
    [{ path: 'reply.result', operator: 'IS_EMPTY', value: 'OK' }, 'successRule.value'],
    [{ path: 'reply.result', operator: 'IS_NOT_EMPTY', value: '0' }, 'successRule.value'],
    [{ value: 'OK' }, 'successRule.value'],
  ] as const)('%j → %s', (input, field) => {
    expect(successRuleProblems(input).map((p) => p.field)).toEqual([field]);
  });

  it.each([{}, { statuses: '200' }, { path: 'a', operator: 'IS_EMPTY' }, { path: 'a', operator: 'IS_EMPTY', value: '' }, { path: 'a[0].b', operator: 'IS_NOT_EMPTY' }, { path: 'a', operator: 'EQUALS', value: '' }, { path: 'n', operator: 'GREATER_THAN', value: '2.5' }] as const)(
    '%j is fine',
    (input) => expect(successRuleProblems(input)).toEqual([]),
  );

  it('defaults: statuses 200-399, RETRY; an operator without a value keeps none', () => {
    expect(successRuleOf({})).toEqual({ statuses: '200-399', path: null, operator: null, value: null, onFailure: 'RETRY' });
    expect(successRuleOf({ path: 'a', operator: 'IS_EMPTY', value: 'x' })).toMatchObject({ path: 'a', operator: 'IS_EMPTY', value: null });
  });
});

describe('judging an answer', () => {
  const sms = rule({ statuses: '200', path: 'reply.result', operator: 'EQUALS', value: 'OK', onFailure: 'FAIL' });
  const xml = (result: string) => `<?xml version="1.0"?><reply><result>${result}</result><code>0</code></reply>`;

  it('the default rule: 2xx and 3xx succeed, 4xx and 5xx are retried as before', () => {
    expect(judgeAnswer(answer(204), null)).toMatchObject({ errorClass: 'none', error: null });
    expect(judgeAnswer(answer(302), null)).toMatchObject({ errorClass: 'none' });
    expect(judgeAnswer(answer(500), null)).toMatchObject({ errorClass: 'http_status', error: 'HTTP 500 Internal Server Error' });
  });

  it('an answer whose body was not read: its status decides, but a path check cannot be made and is retried, even with FAIL', () => {
    const unread = { ...answer(200), responseBody: null, bodyUnread: true };
    expect(judgeAnswer(unread, null)).toMatchObject({ errorClass: 'none', error: null });
    expect(judgeAnswer(unread, rule({ statuses: '200' }))).toMatchObject({ errorClass: 'none', error: null });
    expect(judgeAnswer(unread, sms)).toMatchObject({ errorClass: 'network', error: expect.stringMatching(/^HTTP 200: its body was not read .*, so response path reply\.result could not be checked$/) });
    expect(judgeAnswer({ ...unread, statusCode: 502 }, sms)).toMatchObject({ errorClass: 'rejected', error: 'HTTP 502 Bad Gateway (expected status 200)' });
  });

  it('statuses decide, whatever the code: 404 may succeed, 201 may fail', () => {
    expect(judgeAnswer(answer(404), rule({ statuses: '200,404' }))).toMatchObject({ errorClass: 'none', error: null });
    expect(judgeAnswer(answer(201), rule({ statuses: '200' }))).toMatchObject({ errorClass: 'http_status', error: 'HTTP 201 Created (expected status 200)' });
    expect(judgeAnswer(answer(201), rule({ statuses: '200', onFailure: 'FAIL' }))).toMatchObject({ errorClass: 'rejected' });
  });

  it('the SMS example: 200 with reply.result OK succeeds, anything else is rejected naming path, found and expected', () => {
    expect(judgeAnswer(answer(200, xml('OK'), 'text/xml'), sms)).toMatchObject({ errorClass: 'none' });
    expect(judgeAnswer(answer(200, xml('ERROR'), 'text/xml; charset=utf-8'), sms)).toMatchObject({
      errorClass: 'rejected',
      error: 'HTTP 200: response path reply.result is "ERROR", expected EQUALS "OK"',
    });
    expect(judgeAnswer(answer(200, '<reply><code>1</code></reply>', 'application/xml'), sms).error).toBe('HTTP 200: response path reply.result not found in the answer, expected EQUALS "OK"');
    expect(judgeAnswer(answer(200, 'OK', 'text/plain'), sms).error).toBe('HTTP 200: response path reply.result not found in the answer (the response is text/plain, and paths are read only from answers whose Content-Type is JSON, XML or form data), expected EQUALS "OK"');
    // declared XML or JSON but not parsed (a DTD with entities, a trailing comma): the error says why, not "not XML"
    const dtd = '<!DOCTYPE r [<!ENTITY f SYSTEM "file:///etc/passwd">]><reply><result>&f;</result></reply>';
    expect(judgeAnswer(answer(200, dtd, 'application/xml'), sms).error).toMatch(/^HTTP 200: response path reply\.result not found in the answer \(response declared application\/xml but did not parse as XML \(.+\); kept as text\), expected EQUALS "OK"$/);
    const json = rule({ statuses: '200', path: 'result', operator: 'EQUALS', value: 'OK', onFailure: 'FAIL' });
    expect(judgeAnswer(answer(200, '{"result": "OK",}', 'application/json'), json).error).toMatch(/not found in the answer \(response declared application\/json but did not parse as JSON/);
    // an attribute-carrying element reads as its text
    expect(judgeAnswer(answer(200, '<reply><result code="0">OK</result></reply>', 'text/xml'), sms)).toMatchObject({ errorClass: 'none' });
  });

  it('values compare as text (JSON true is "true", numbers shortest), GREATER_THAN/LESS_THAN as numbers; JSON and form answers', () => {
    const json = (v: unknown) => answer(200, JSON.stringify({ data: { v } }), 'application/json');
    const check = (operator: SuccessRuleDef['operator'], value: string | null) => rule({ path: 'data.v', operator, value });
    expect(judgeAnswer(json(true), check('EQUALS', 'true')).errorClass).toBe('none');
    expect(judgeAnswer(json(1.50), check('EQUALS', '1.5')).errorClass).toBe('none');
    expect(judgeAnswer(json(10), check('GREATER_THAN', '9')).errorClass).toBe('none');
    expect(judgeAnswer(json('10'), check('LESS_THAN', '9')).error).toBe('HTTP 200: response path data.v is "10", expected LESS_THAN "9"');
    expect(judgeAnswer(json('abc'), check('GREATER_THAN', '1')).errorClass).toBe('http_status');
    expect(judgeAnswer(json('queued ok'), check('CONTAINS', 'ok')).errorClass).toBe('none');
    expect(judgeAnswer(json('failed'), check('NOT_CONTAINS', 'fail')).errorClass).toBe('http_status');
    expect(judgeAnswer(json(''), check('IS_EMPTY', null)).errorClass).toBe('none');
    expect(judgeAnswer(json(null), check('IS_NOT_EMPTY', null)).error).toBe('HTTP 200: response path data.v is "", expected IS_NOT_EMPTY');
    expect(judgeAnswer(json('x'), check('NOT_EQUALS', 'y')).errorClass).toBe('none');
    const form = answer(200, 'status=queued&id=7', 'application/x-www-form-urlencoded');
    // an empty JSON list or object holds nothing, as an empty XML element does
    const errors = rule({ path: 'errors', operator: 'IS_EMPTY' });
    expect(judgeAnswer(answer(200, '{"errors": []}', 'application/json'), errors)).toMatchObject({ errorClass: 'none', error: null });
    expect(judgeAnswer(answer(200, '{"errors": {}}', 'application/json'), errors).errorClass).toBe('none');
    expect(judgeAnswer(answer(200, '<r><errors/></r>', 'text/xml'), rule({ path: 'r.errors', operator: 'IS_EMPTY' })).errorClass).toBe('none');
    expect(judgeAnswer(answer(200, '{"errors": ["bad phone"]}', 'application/json'), errors).error).toBe('HTTP 200: response path errors is "[\\"bad phone\\"]", expected IS_EMPTY');
    expect(judgeAnswer(answer(200, '{"items": []}', 'application/json'), rule({ path: 'items', operator: 'IS_NOT_EMPTY' })).error).toBe('HTTP 200: response path items is "[]", expected IS_NOT_EMPTY');
    expect(judgeAnswer(answer(200, '{"items": [0]}', 'application/json'), rule({ path: 'items', operator: 'IS_NOT_EMPTY' })).errorClass).toBe('none');
    // a parsed answer without the path: nothing there; an answer that is not JSON, XML or form
    // data (a proxy's HTML error page, JSON that does not parse) satisfies no check at all
    expect(judgeAnswer(answer(200, '{"ok": true}', 'application/json'), errors).errorClass).toBe('none');
    for (const check of [errors, rule({ path: 'status', operator: 'NOT_EQUALS', value: 'ERROR' }), rule({ path: 'status', operator: 'NOT_CONTAINS', value: 'fail' })]) {
      expect(judgeAnswer(answer(200, '<html><body>502 Bad Gateway</body></html>', 'text/html'), check).error).toMatch(/^HTTP 200: response path \w+ not found in the answer \(the response is text\/html, and paths are read only from answers whose Content-Type is JSON, XML or form data\), expected /);
      expect(judgeAnswer(answer(200, '{"status": ', 'application/json'), check).error).toMatch(/not found in the answer \(response declared application\/json but did not parse as JSON/);
    }
    expect(judgeAnswer(form, rule({ path: 'status', operator: 'EQUALS', value: 'queued' })).errorClass).toBe('none');
  });

  it('no answer (timeout, network error): unchanged', () => {
    const timeout: AttemptResult = { ...answer(200), statusCode: null, errorClass: 'timeout', error: 'timed out' };
    expect(judgeAnswer(timeout, sms)).toBe(timeout);
  });

  it('an answer cut off after its status (body timed out, connection reset): unchanged, never judged a success', () => {
    const cut = (errorClass: AttemptResult['errorClass'], error: string, body: string): AttemptResult => ({ ...answer(200, body, 'text/xml'), errorClass, error });
    const timedOut = cut('timeout', 'timed out after 2000 ms', '<reply><result>OK</result>');
    const reset = cut('network', 'connection reset (ECONNRESET)', '<reply><result>O');
    for (const r of [null, sms, rule({ statuses: '200' })]) {
      expect(judgeAnswer(timedOut, r)).toBe(timedOut);
      expect(judgeAnswer(reset, r)).toBe(reset);
    }
    expect(judgeAnswer(cut('network', 'connection closed by the server (UND_ERR_SOCKET)', ''), null)).toMatchObject({ errorClass: 'network', statusCode: 200 });
  });
});

describe('GREATER_THAN and LESS_THAN compare the decimals written, exactly', () => {
  const json = (body: string) => answer(200, body, 'application/json');
  it.each([
    // the answer (JSON), operator, the rule's value, holds
    ['{"result":{"message_id":12345678901234567890}}', 'GREATER_THAN', '12345678901234567889', true],
    ['{"result":{"message_id":12345678901234567890}}', 'LESS_THAN', '12345678901234567891', true],
    ['{"result":{"message_id":12345678901234567890}}', 'GREATER_THAN', '12345678901234567890', false],
    ['{"result":{"message_id":12345678901234567890}}', 'LESS_THAN', '12345678901234567890', false],
    ['{"result":{"message_id":12345678901234567889}}', 'GREATER_THAN', '12345678901234567890', false],
    ['{"result":{"message_id":-12345678901234567890}}', 'LESS_THAN', '-12345678901234567889', true],
    ['{"result":{"message_id":"9007199254740993"}}', 'GREATER_THAN', '9007199254740992', true],
    ['{"result":{"message_id":"0.10000000000000000001"}}', 'GREATER_THAN', '0.1', true],
    // unquoted in the JSON: read as written, not as the double JSON.parse makes of it
    ['{"result":{"message_id":0.10000000000000000001}}', 'GREATER_THAN', '0.1', true],
    ['{"result":{"message_id":12345678.123456789}}', 'GREATER_THAN', '12345678.12345678', true],
    ['{"result":{"message_id":1.2345678901234567890e19}}', 'LESS_THAN', '12345678901234567891', true],
    ['{"result":{"message_id":"1.2345678901234567890e19"}}', 'LESS_THAN', '12345678901234567891', true],
    ['{"result":{"message_id":"1.2345678901234567890e19"}}', 'GREATER_THAN', '12345678901234567889.5', true],
    // numbers of any form, both sides; anything else never holds
    ['{"result":{"message_id":10}}', 'GREATER_THAN', '9', true],
    ['{"result":{"message_id":"10"}}', 'LESS_THAN', '9', false],
    ['{"result":{"message_id":" 2.50 "}}', 'GREATER_THAN', '2.5', false],
    ['{"result":{"message_id":"2.5"}}', 'LESS_THAN', '+2.51', true],
    ['{"result":{"message_id":"-0"}}', 'LESS_THAN', '0', false],
    ['{"result":{"message_id":1e21}}', 'GREATER_THAN', '999999999999999999999', true],
    ['{"result":{"message_id":"1e3"}}', 'GREATER_THAN', '999.999', true],
    ['{"result":{"message_id":".5"}}', 'LESS_THAN', '0.6', true],
    ['{"result":{"message_id":"1e999"}}', 'GREATER_THAN', '1', false],
    ['{"result":{"message_id":"abc"}}', 'GREATER_THAN', '1', false],
    ['{"result":{"message_id":"0x10"}}', 'GREATER_THAN', '1', false],
    ['{"result":{"message_id":""}}', 'LESS_THAN', '1', false],
    ['{"result":{}}', 'LESS_THAN', '1', false],
  ] as const)('%s %s %s → %s', (body, operator, value, holds) => {
    const judged = judgeAnswer(json(body), rule({ path: 'result.message_id', operator, value }));
    expect(judged.errorClass).toBe(holds ? 'none' : 'http_status');
  });
});

describe('a success rule path reads an XML answer as a mapping does: [0] of a single element is the element', () => {
  const one = '<reply><message_infos><message_info><sms_id>111</sms_id></message_info></message_infos></reply>';
  const two = '<reply><message_infos><message_info><sms_id>111</sms_id></message_info><message_info><sms_id>222</sms_id></message_info></message_infos></reply>';
  it.each([
    // body, content type, path, found (or undefined: not found)
    [one, 'text/xml', 'reply.message_infos.message_info[0].sms_id', '111'],
    [two, 'text/xml', 'reply.message_infos.message_info[0].sms_id', '111'],
    [two, 'text/xml', 'reply.message_infos.message_info[1].sms_id', '222'],
    [one, 'text/xml', 'reply.message_infos.message_info[1].sms_id', undefined],
    [one, 'text/xml', 'reply.message_infos.message_info.sms_id', '111'],
    ['{"reply":{"message_info":{"sms_id":"111"}}}', 'application/json', 'reply.message_info[0].sms_id', undefined],
  ] as const)('%s (%s): %s → %j', (body, contentType, path, found) => {
    const judged = judgeAnswer(answer(200, body, contentType), rule({ path, operator: 'EQUALS', value: '111' }));
    if (found === '111') expect(judged).toMatchObject({ errorClass: 'none', error: null });
    else expect(judged.error).toBe(`HTTP 200: response path ${path} ${found === undefined ? 'not found in the answer' : `is "${found}"`}, expected EQUALS "111"`);
  });
});

describe('the retry policy with Retry-After, rejections and 410', () => {
  const policy = createRetryPolicy({ intervalMs: 60_000, windowMs: 600_000 });
  const first = now;
  const decide = (result: AttemptResult, attemptNumber = 1, at = now) => policy.decide({ result, attemptNumber, firstAttemptAt: first, now: at });

  it('Retry-After in seconds or as an HTTP date, sooner or later than the schedule, at least 1 s', () => {
    expect(decide(answer(429, '', null, '5'))).toEqual({ kind: 'retry', at: new Date(now.getTime() + 5_000) });
    expect(decide(answer(503, '', null, '300'))).toEqual({ kind: 'retry', at: new Date(now.getTime() + 300_000) });
    expect(decide(answer(503, '', null, new Date(now.getTime() + 120_000).toUTCString()))).toEqual({ kind: 'retry', at: new Date(now.getTime() + 120_000) });
    expect(decide(answer(429, '', null, '0'))).toEqual({ kind: 'retry', at: new Date(now.getTime() + 1_000) });
    expect(decide(answer(429, '', null, 'Thu, 01 Jan 2000 00:00:00 GMT'))).toEqual({ kind: 'retry', at: new Date(now.getTime() + 1_000) });
  });

  it('Retry-After only on 429 and 503; unreadable ones fall back to the schedule', () => {
    expect(decide(answer(500, '', null, '5'))).toEqual({ kind: 'retry', at: new Date(now.getTime() + 60_000) });
    expect(decide(answer(429, '', null, 'soon-ish 5'))).toEqual({ kind: 'retry', at: new Date(now.getTime() + 60_000) });
    expect(decide(answer(429, '', null, '-5'))).toEqual({ kind: 'retry', at: new Date(now.getTime() + 60_000) });
    expect(retryAfterTime(null, now)).toBeNull();
    expect(retryAfterTime('Sunday, 30-Nov-26 10:02:00 GMT', now)).toEqual(new Date(now.getTime() + 120_000));
    expect(retryAfterTime('Mon Nov 30 10:02:00 2026', now)).toEqual(new Date(now.getTime() + 120_000));
  });

  it('a Retry-After past the window: FAILED after this attempt, saying so', () => {
    const d = decide(answer(503, '', null, '601'));
    expect(d.kind).toBe('failed');
    expect(d.kind === 'failed' && d.reason).toMatch(/^Retry-After asks for the next attempt at 2026-11-30T10:10:01.000Z, past the retry window of 10m \(it ends at 2026-11-30T10:10:00.000Z\); last error: HTTP 503/);
    expect(decide(answer(503, '', null, '600'))).toEqual({ kind: 'retry', at: new Date(now.getTime() + 600_000) });
  });

  it('a rejected answer (onFailure FAIL) is final at once with its error', () => {
    expect(decide({ ...answer(200), errorClass: 'rejected', error: 'HTTP 200: response path a is "x", expected EQUALS "y"' })).toEqual({
      kind: 'failed',
      reason: 'HTTP 200: response path a is "x", expected EQUALS "y"',
    });
  });

  it('410 Gone: final at once, and the webhook is to be switched off', () => {
    const d = decide(answer(410));
    expect(d).toMatchObject({ kind: 'failed', switchOff: 'the receiver answered HTTP 410 Gone' });
    expect(decide(judgeAnswer(answer(410), rule({ statuses: '200,410' })))).toEqual({ kind: 'succeeded' });
  });

  it('a 410 the success rule lists whose body check fails: an ordinary failure (retried, or final with FAIL), the webhook not switched off', () => {
    const listed = (onFailure: 'RETRY' | 'FAIL') => rule({ statuses: '200,410', path: 'status', operator: 'EQUALS', value: 'deleted', onFailure });
    const gone = answer(410, '{"status":"unknown"}', 'application/json');
    expect(decide(judgeAnswer(gone, listed('RETRY')))).toEqual({ kind: 'retry', at: new Date(now.getTime() + 60_000) });
    const failed = decide(judgeAnswer(gone, listed('FAIL')));
    expect(failed).toEqual({ kind: 'failed', reason: 'HTTP 410: response path status is "unknown", expected EQUALS "deleted"' });
    // not listed: the endpoint is gone whatever the body says
    expect(decide(judgeAnswer(gone, rule({ statuses: '200', path: 'status', operator: 'EQUALS', value: 'deleted' })))).toMatchObject({ switchOff: 'the receiver answered HTTP 410 Gone' });
  });
});

describe('Standard Webhooks signatures', () => {
  it('a secret is whsec_ and 32 random bytes in base64', () => {
    const s = newSigningSecret();
    expect(s).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(signingKey(s)).toHaveLength(32);
    expect(newSigningSecret()).not.toBe(s);
  });

  it('the standardwebhooks package verifies with the current and, during a rotation, the previous secret', () => {
    const current = newSigningSecret();
    const previous = newSigningSecret();
    const body = '{"text":"Привет 😀"}';
    const at = new Date();
    const headers = signatureHeaders('d-1', at, body, [signingKey(current), signingKey(previous)]);
    expect(headers['webhook-id']).toBe('d-1');
    expect(headers['webhook-timestamp']).toBe(String(Math.floor(at.getTime() / 1000)));
    expect(headers['webhook-signature']).toMatch(/^v1,\S+ v1,\S+$/);
    expect(new Verifier(current).verify(body, headers)).toEqual({ text: 'Привет 😀' });
    expect(new Verifier(previous).verify(body, headers)).toEqual({ text: 'Привет 😀' });
    expect(() => new Verifier(newSigningSecret()).verify(body, headers)).toThrow();
    expect(() => new Verifier(current).verify(`${body} `, headers)).toThrow();
  });
});
