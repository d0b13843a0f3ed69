#!/usr/bin/env node
/**
 * The benchmark's receiver, in its own process (as a real receiver would be): answers
 * 200 at once and records, per request, the enqueue time the sender stamped in
 * X-Bench-Enqueued and the arrival time (performance.timeOrigin + now: comparable
 * across processes on one machine). Talks to the parent over IPC.
 */
import { createServer } from 'node:http';

let arrivals = [];
const seen = new Set();
let duplicates = 0;

const server = createServer((req, res) => {
  const at = performance.timeOrigin + performance.now();
  req.resume();
  req.on('end', () => {
    const id = req.headers['x-deskhooks-delivery'] ?? req.headers['x-bench-id'] ?? '';
    if (seen.has(id)) duplicates++;
    else seen.add(id);
    arrivals.push([Number(req.headers['x-bench-enqueued'] ?? 0), at]);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"ok":true}');
  });
});
server.keepAliveTimeout = 10_000;
server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));

process.on('message', (msg) => {
  if (msg === 'count') process.send({ count: arrivals.length, unique: seen.size, duplicates });
  else if (msg === 'take') {
    process.send({ arrivals });
    arrivals = [];
  } else if (msg === 'reset') {
    arrivals = [];
    seen.clear();
    duplicates = 0;
    process.send({ ok: true });
  } else if (msg === 'exit') server.close(() => process.exit(0));
});
