/**
 * One HTTP server: GraphQL over HTTP (Apollo Server 5 on express 5), GraphQL
 * subscriptions over graphql-ws on the same path, /healthz and the REST subset.
 */
import express from 'express';
import { createServer, type Server } from 'node:http';
import { ApolloServer } from '@apollo/server';
import { expressMiddleware } from '@as-integrations/express5';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { WebSocketServer } from 'ws';
import { useServer } from 'graphql-ws/use/ws';
import { specifiedRules, validate, type GraphQLSchema } from 'graphql';
import type { AppServices } from './app-services.js';
import { authenticate } from './helpdesk/users.js';
import { createLoaders, depthLimit, formatGraphQLError, type GraphQLContext } from './resolvers/index.js';
import { DomainError } from './errors.js';
import { createRestRouter } from './rest/router.js';
import { attachFlowGate } from './ws-flow.js';

export interface HttpApp {
  server: Server;
  listen(port: number, host: string): Promise<number>;
  close(): Promise<void>;
}

export const DELIVERY_HEADER = 'x-deskhooks-delivery';

export interface HttpAppOptions {
  /** false for a worker-only process: /healthz only */
  api: boolean;
}

export async function createHttpApp(services: AppServices, schema: GraphQLSchema, isReady: () => Promise<boolean>, opts: HttpAppOptions = { api: true }): Promise<HttpApp> {
  const app = express();
  const server = createServer(app);
  const { log } = services;

  const contextFor = async (authorization: string | undefined, automated: boolean): Promise<GraphQLContext> => {
    const em = services.orm.em.fork();
    const user = await authenticate(em, authorization);
    return { em, user, automated, loaders: createLoaders(em), services };
  };

  app.get('/healthz', async (_req, res) => {
    const ok = await isReady().catch(() => false);
    res.status(ok ? 200 : 503).json({ status: ok ? 'ok' : 'unavailable', role: services.config.role });
  });
  if (!opts.api) {
    return {
      server,
      listen: (port, host) => listen(server, port, host),
      close: async () => {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      },
    };
  }

  const wss = new WebSocketServer({ server, path: '/graphql' });
  const wsCleanup = useServer<Record<string, unknown>, { ctx?: GraphQLContext }>(
    {
      schema,
      validate: (schema, document) => validate(schema, document, [...specifiedRules, depthLimit(12)]),
      // Refuse the connection outright without valid credentials (graphql-ws closes with 4403).
      onConnect: async (c) => {
        const auth = c.connectionParams?.authorization;
        const ctx = await contextFor(typeof auth === 'string' ? auth : undefined, false);
        if (!ctx.user) return false;
        c.extra.ctx = { ...ctx, flow: attachFlowGate(c.extra.socket) };
        return true;
      },
      // the same error shapes as over HTTP (codes, fields, no internals)
      onError: (_c, _id, _payload, errors) => errors.map((e) => formatGraphQLError(e.toJSON(), e, (m, err) => log.error(m, err))),
      onNext: (_c, _id, _payload, _args, result) =>
        result.errors ? { ...result, errors: result.errors.map((e) => formatGraphQLError(e.toJSON(), e, (m, err) => log.error(m, err))) } : undefined,
      context: async (c) => {
        // a fresh EntityManager per operation, the user from the connection
        const base = c.extra.ctx!;
        const em = services.orm.em.fork();
        return { ...base, em, loaders: createLoaders(em) };
      },
    },
    wss,
  );

  const apollo = new ApolloServer<GraphQLContext>({
    schema,
    validationRules: [depthLimit(12)],
    parseOptions: { maxTokens: 10_000 },
    introspection: true,
    // src/cli.ts owns the signals and stops everything in order
    stopOnTerminationSignals: false,
    // credentials travel in the Authorization header, never in cookies: no CSRF to guard
    // against, and RUNTIME.md promises GET /graphql for queries
    csrfPrevention: false,
    includeStacktraceInErrorResponses: false,
    formatError: (formatted, error) => formatGraphQLError(formatted, error, (m, e) => log.error(m, e)),
    plugins: [
      // in-flight requests get 3 s at stop, so that the whole stop stays under 10 s
      ApolloServerPluginDrainHttpServer({ httpServer: server, stopGracePeriodMillis: 3_000 }),
      { async serverWillStart() { return { async drainServer() { log.debug('closing websockets'); await wsCleanup.dispose(); log.debug('websockets closed'); } }; } },
    ],
  });
  await apollo.start();

  app.use('/api/v2', createRestRouter(services));
  app.use(
    '/graphql',
    express.json({ limit: '1mb' }),
    expressMiddleware(apollo, {
      context: async ({ req }) => contextFor(req.headers.authorization, req.headers[DELIVERY_HEADER] !== undefined),
    }),
  );
  app.use((err: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    // body-parser: unreadable JSON or form bodies, too large, wrong charset
    const status = (err as { status?: number }).status;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      res.status(status).json({ error: { code: 'BAD_USER_INPUT', message: `the request body could not be read: ${(err as Error).message}` } });
      return;
    }
    if (err instanceof DomainError) {
      res.status(400).json({ error: { code: err.code, message: err.message, field: err.field } });
      return;
    }
    log.error('unexpected HTTP error', err);
    res.status(500).json({ error: { code: 'INTERNAL_SERVER_ERROR', message: 'internal server error' } });
  });

  return {
    server,
    listen: (port, host) => listen(server, port, host),
    close: async () => {
      log.debug('stopping Apollo');
      await apollo.stop();
      log.debug('Apollo stopped');
      server.closeAllConnections?.();
    },
  };
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const addr = server.address();
      resolve(typeof addr === 'object' && addr ? addr.port : port);
    });
  });
}
