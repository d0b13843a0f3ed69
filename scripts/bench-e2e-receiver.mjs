#!/usr/bin/env node
/**
 * The receiver of `npm run bench:e2e`, in its own process (as a real receiver would be):
 * answers 200 at once and records, per request, the ticket id of its JSON body ({"id": …})
 * and its arrival time (performance.timeOrigin + now: comparable across processes on one
 * machine). The parent collects what arrived since its last 'take' over IPC; a second
 * arrival of an id is counted as a duplicate.
 */
import { createServer } from 'node:http';

let fresh = [];
const seen = new Set();
let duplicates = 0;

const server = createServer((req, res) => {
  const at = performance.timeOrigin + performance.now();
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    let id = '';
    try {
      id = String(JSON.parse(Buffer.concat(chunks).toString('utf8')).id ?? '');
    } catch {
      // not a bench body: recorded under ''
    }
    if (seen.has(id)) duplicates++;
    else {
      seen.add(id);
      fresh.push([id, at]);
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"ok":true}');
  });
});
server.keepAliveTimeout = 10_000;
server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));

process.on('message', (msg) => {
  if (msg === 'take') {
    process.send({ arrivals: fresh, duplicates });
    fresh = [];
  } else if (msg === 'exit') {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  }
});
process.on('disconnect', () => process.exit(0));
