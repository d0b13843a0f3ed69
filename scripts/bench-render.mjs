#!/usr/bin/env node
/**
 * Benchmark (not a test): how many times per second one core renders a typical
 * Telegram-style JSON body, compiled once, and a whole request (URL, body, headers, auth).
 * Uses the BUILT code: run `npx tsc -p tsconfig.build.json` first.
 *
 *   node scripts/bench-render.mjs            human-readable
 *   node scripts/bench-render.mjs --json     one JSON object on stdout
 *   options: --seconds=3  --max=20000000
 *
 * Each loop stops after `seconds` or `max` iterations, whichever comes first.
 */
import { compileTemplate, escapeJson } from '../dist/templates/index.js';
import { renderRequest } from '../dist/delivery/request.js';
import { sampleContext } from '../dist/templates/sample-context.js';
import { asJson, opt } from './bench-cli.mjs';

const seconds = opt('seconds', 3);
const maxIterations = opt('max', 20_000_000);

const BODY =
  '{"chat_id": "{{ assignee.telegramChatId }}", "parse_mode": "HTML", ' +
  '"text": "New ticket #{{ ticket.id }}: {{ ticket.title }}\\nPriority: {{ ticket.priority }}\\nFrom: {{ requester.name }} <{{ requester.email }}>"}';

const ctx = sampleContext();
ctx.ticket.title = 'Printer on floor 2 says "PC LOAD LETTER" <again> \\ ☹';

/** Runs fn until the time or iteration bound; checks the clock every 1024 calls. */
function measure(fn) {
  for (let i = 0; i < 20_000; i++) fn(); // warm-up, lets the JIT settle
  const limitNs = BigInt(Math.round(seconds * 1e9));
  const start = process.hrtime.bigint();
  let n = 0;
  let elapsed = 0n;
  let sink = 0;
  while (n < maxIterations) {
    for (let j = 0; j < 1024 && n < maxIterations; j++, n++) sink += fn().length;
    elapsed = process.hrtime.bigint() - start;
    if (elapsed >= limitNs) break;
  }
  const secs = Number(elapsed) / 1e9;
  return { iterations: n, seconds: Number(secs.toFixed(3)), perSecond: Math.round(n / secs), sink };
}

const compiled = compileTemplate(BODY, 'webhook');
const sample = compiled.render(ctx, escapeJson);
JSON.parse(sample); // the benchmark renders something valid

const body = measure(() => compiled.render(ctx, escapeJson));

const webhook = {
  id: '5',
  name: 'Telegram',
  method: 'POST',
  url: 'https://api.telegram.org/bot123456:ABC/sendMessage',
  format: 'JSON',
  body: BODY,
  headers: [{ name: 'X-Ticket', value: '{{ ticket.id }}' }],
  auth: { type: 'NONE', username: null, secret: null },
  responseMappings: [],
  successComment: '',
};
const request = measure(() => renderRequest(webhook, ctx, { userAgent: 'deskhooks/bench' }).request.body);

const result = {
  node: process.version,
  template: 'telegram-json',
  bodyRendersPerSecond: body.perSecond,
  bodyIterations: body.iterations,
  bodySeconds: body.seconds,
  requestRendersPerSecond: request.perSecond,
  requestIterations: request.iterations,
  requestSeconds: request.seconds,
  targetPerSecond: 100_000,
  ok: body.perSecond >= 100_000,
};

if (asJson) {
  process.stdout.write(JSON.stringify(result) + '\n');
} else {
  console.log(`node ${result.node}, one core, ${seconds}s per loop`);
  console.log(`body render (compiled once):   ${body.perSecond.toLocaleString('en')} renders/s (${body.iterations} in ${body.seconds}s)`);
  console.log(`whole request (renderRequest): ${request.perSecond.toLocaleString('en')} renders/s (${request.iterations} in ${request.seconds}s)`);
  console.log(`target ≥ 100,000 body renders/s: ${result.ok ? 'met' : 'NOT met'}`);
}
