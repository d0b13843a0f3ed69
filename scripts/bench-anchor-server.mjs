#!/usr/bin/env node
/**
 * The anchor of `npm run bench:e2e` (scripts/bench-e2e.mjs): the least a server on
 * deskhooks' stack does for a createTicket mutation. Apollo Server 5 on express 5
 * (@as-integrations/express5) with a pg Pool of 20 (as deskhooks' own pool); auth is one
 * indexed lookup of the sha256 of the bearer key in a users table; createTicket is one
 * transaction inserting the ticket row and an outbox row carrying the ticket's state.
 *
 * Runs as a forked child: ANCHOR_DATABASE_URL (an empty database, tables created here) and
 * ANCHOR_API_KEY in the environment; sends { port } over IPC once it listens on 127.0.0.1,
 * and exits on the message 'exit'.
 */
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import express from 'express';
import pg from 'pg';
import { ApolloServer } from '@apollo/server';
import { expressMiddleware } from '@as-integrations/express5';

const pool = new pg.Pool({ connectionString: process.env.ANCHOR_DATABASE_URL, max: 20 });
pool.on('error', () => {});
const sha256 = (s) => createHash('sha256').update(s).digest('hex');

await pool.query(`
  create table if not exists users (id bigserial primary key, email text not null unique, role text not null, api_key_hash text not null unique);
  create table if not exists tickets (id bigserial primary key, title text not null, description text not null, status text not null,
    priority text not null, requester_id bigint not null references users (id), created_at timestamptz not null, updated_at timestamptz not null);
  create table if not exists ticket_events (id bigserial primary key, ticket_id bigint not null, type text not null, payload jsonb not null,
    created_at timestamptz not null, processed_at timestamptz null);
  create index if not exists ticket_events_pending_idx on ticket_events (id) where processed_at is null;
`);
await pool.query(`insert into users (email, role, api_key_hash) values ('admin@example.com', 'ADMIN', $1) on conflict do nothing`, [sha256(process.env.ANCHOR_API_KEY ?? '')]);

const typeDefs = `#graphql
  enum TicketStatus { OPEN IN_PROGRESS WAITING CLOSED }
  enum TicketPriority { LOW NORMAL HIGH URGENT }
  input CreateTicketInput { title: String!, description: String!, priority: TicketPriority }
  type Ticket { id: ID!, title: String!, description: String!, status: TicketStatus!, priority: TicketPriority!, createdAt: String! }
  type Query { ping: Boolean! }
  type Mutation { createTicket(input: CreateTicketInput!): Ticket! }
`;

const resolvers = {
  Query: { ping: () => true },
  Mutation: {
    async createTicket(_root, { input }, { user }) {
      if (!user) throw new Error('UNAUTHENTICATED');
      const now = new Date();
      const client = await pool.connect();
      try {
        await client.query('begin');
        const { rows } = await client.query(
          `insert into tickets (title, description, status, priority, requester_id, created_at, updated_at)
           values ($1, $2, 'OPEN', $3, $4, $5, $5) returning id`,
          [input.title, input.description, input.priority ?? 'NORMAL', user.id, now],
        );
        const ticket = { id: String(rows[0].id), title: input.title, description: input.description, status: 'OPEN', priority: input.priority ?? 'NORMAL' };
        const payload = { changes: [], actorId: user.id, ticket: { ...ticket, requester: { email: user.email, role: user.role }, assignee: null, parentId: null, custom: {} } };
        await client.query(`insert into ticket_events (ticket_id, type, payload, created_at) values ($1, 'TICKET_CREATED', $2, $3)`, [ticket.id, payload, now]);
        await client.query('commit');
        return { ...ticket, createdAt: now.toISOString() };
      } catch (err) {
        await client.query('rollback').catch(() => {});
        throw err;
      } finally {
        client.release();
      }
    },
  },
};

const apollo = new ApolloServer({ typeDefs, resolvers });
await apollo.start();
const app = express();
app.use(
  '/graphql',
  express.json({ limit: '1mb' }),
  expressMiddleware(apollo, {
    context: async ({ req }) => {
      const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
      if (!m) return { user: null };
      const { rows } = await pool.query('select id, email, role from users where api_key_hash = $1', [sha256(m[1])]);
      return { user: rows[0] ? { id: String(rows[0].id), email: rows[0].email, role: rows[0].role } : null };
    },
  }),
);
const server = createServer(app);
server.keepAliveTimeout = 10_000;
server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));

process.on('message', (msg) => {
  if (msg !== 'exit') return;
  server.closeAllConnections();
  server.close(() => void apollo.stop().then(() => pool.end()).finally(() => process.exit(0)));
});
process.on('disconnect', () => process.exit(0));
