/**
 * One HTTP server: GraphQL over HTTP (Apollo Server 5 on express 5), GraphQL
 * subscriptions over graphql-ws on the same path, /healthz, the REST subset and the admin
 * console (./console.ts).
 */
import express from 'express';
import { createServer, type Server } from 'node:http';
import { ApolloServer } from '@apollo/server';
import { expressMiddleware } from '@as-integrations/express5';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { WebSocketServer } from 'ws';
import { useServer } from 'graphql-ws/use/ws';
import { GraphQLError, execute, subscribe, type GraphQLSchema } from 'graphql';
import type { ApolloServerPlugin } from '@apollo/server';
import type { AppServices } from '../app-services.js';
import { API_KEY_ROTATED_CHANNEL, requireUtf8Body } from '../helpdesk/index.js';
import { databaseOutOfReach, User, type Listener } from '../db/index.js';
import {
  GRAPHQL_LIMITS,
  checkSource,
  costLimitError,
  costModel,
  createLoaders,
  formatGraphQLError,
  limitError,
  limitRules,
  prepareOperation,
  requestContext,
  textInputGuardPlugin,
  withTextInputGuard,
  type CostModel,
  type GraphQLContext,
} from '../resolvers/index.js';
import { DATABASE_UNAVAILABLE, DomainError, forbidden } from '../errors.js';
import { createRestRouter, restNotFound } from '../rest/index.js';
import { consoleRouter, explorerRedirect } from './console.js';
import { attachFlowGate } from './ws-flow.js';
import { KEY_ROTATED_CLOSE_CODE, createWsSessions } from './ws-sessions.js';

export interface HttpApp {
  server: Server;
  listen(port: number, host: string): Promise<number>;
  close(): Promise<void>;
}

export const DELIVERY_HEADER = 'x-deskhooks-delivery';

/** The websocket close code "Try Again Later" (RFC 6455 registry), for a connection refused while the database is out of reach. */
const TRY_AGAIN_LATER_CLOSE_CODE = 1013;

export interface HttpAppOptions {
  /** false for a worker-only process: /healthz only */
  api: boolean;
  /** the process's LISTEN connection: key rotations in any process close this one's websockets */
  notifications?: Pick<Listener, 'on' | 'onReconnect'>;
}

/**
 * The key of a websocket connection: connectionParams' `authorization`, its name in any case
 * (`Authorization`, as the HTTP header is usually written), as header names are read.
 */
function authorizationParam(params: Record<string, unknown> | undefined): string | undefined {
  const name = Object.keys(params ?? {}).find((k) => k.toLowerCase() === 'authorization');
  const value = name === undefined ? undefined : params![name];
  return typeof value === 'string' ? value : undefined;
}

export async function createHttpApp(services: AppServices, schema: GraphQLSchema, isReady: () => Promise<boolean>, opts: HttpAppOptions = { api: true }): Promise<HttpApp> {
  const app = express();
  // no answer names the framework (X-Powered-By: Express): it only tells a scanner what to try
  app.disable('x-powered-by');
  const server = createServer(app);
  const { log } = services;
  /** the list bounds the cost limit counts, from this process's configuration */
  const costs = costModel(services.config);

  /** The caller and, when a resolver needs one, a fresh EntityManager; `deliveryId`: the request's X-Deskhooks-Delivery (see UserService.identify). */
  const contextFor = async (authorization: string | undefined, deliveryId?: string): Promise<GraphQLContext> =>
    requestContext(services, await services.users.identify(authorization, deliveryId));

  app.get('/healthz', async (_req, res) => {
    const ok = await isReady().catch(() => false);
    res.status(ok ? 200 : 503).json({ status: ok ? 'ok' : 'unavailable', role: services.config.role });
  });
  if (!opts.api) {
    // a client or a load balancer sent here by mistake learns where the API is
    app.use((_req, res) => {
      res.status(404).json({
        errors: [{ message: 'this deskhooks process runs DESKHOOKS_ROLE=worker and serves only /healthz: GraphQL, the websocket, REST and the console are served by the api processes (DESKHOOKS_ROLE=api or all)', extensions: { code: 'NOT_FOUND' } }],
      });
    });
    return {
      server,
      listen: (port, host) => listen(server, port, host),
      close: async () => {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      },
    };
  }

  // maxPayload: a larger message closes the socket (1009) before it is buffered or parsed;
  // graphql-ws parses connection_init before onConnect checks the key
  const wss = new WebSocketServer({ server, path: '/graphql', maxPayload: GRAPHQL_LIMITS.maxMessageBytes });
  // A client breaking the protocol (a message over maxPayload, invalid UTF-8 …): ws has
  // already closed the socket with the matching code (1009, 1007 …); graphql-ws would
  // print each such error to stderr as an internal one.
  wss.on('connection', (socket) => {
    const emit = socket.emit.bind(socket);
    socket.emit = ((event: string | symbol, ...args: unknown[]) => {
      const code = (args[0] as { code?: unknown } | undefined)?.code;
      if (event === 'error' && typeof code === 'string' && code.startsWith('WS_ERR_')) {
        log.debug(`websocket closed for a protocol error: ${code}`);
        return true;
      }
      return emit(event, ...args);
    }) as typeof socket.emit;
  });
  const sessions = createWsSessions();
  // closes the connections made with a key that is no longer the user's (rotated, or the user is gone)
  const revokeStale = async (userIds: string[]) => {
    const open = new Set(sessions.userIds());
    const ids = userIds.filter((id) => open.has(id));
    if (!ids.length) return;
    const users = await services.orm.em.fork().find(User, { id: { $in: ids } });
    const current = new Map(users.map((u) => [u.id, u.apiKeyHash]));
    for (const id of ids) sessions.revoke(id, current.get(id) ?? null);
  };
  const revokeLogged = (userIds: string[]) => void revokeStale(userIds).catch((err) => log.error('closing websockets of a rotated key failed', err));
  await opts.notifications?.on(API_KEY_ROTATED_CHANNEL, (userId) => revokeLogged([userId]));
  // a rotation NOTIFY sent while the connection was down is lost: check every open connection
  opts.notifications?.onReconnect(() => revokeLogged(sessions.userIds()));

  const wsCleanup = useServer<Record<string, unknown>, { ctx?: GraphQLContext; keyHash?: string }>(
    {
      schema,
      // an internal error closes the socket with 4500 and a fixed reason, never the error's own text
      isProd: true,
      // U+0000 / lone surrogates in any string: refused before execution, as over HTTP
      execute: withTextInputGuard(execute),
      subscribe: withTextInputGuard(subscribe),
      // Refuse the connection outright without valid credentials (graphql-ws closes with 4403).
      onConnect: async (c) => {
        const auth = authorizationParam(c.connectionParams);
        let ctx: GraphQLContext;
        try {
          ctx = await contextFor(auth);
        } catch (err) {
          if (!databaseOutOfReach(err)) throw err;
          log.error('the database is unavailable to a websocket connection', err);
          // 1013 Try Again Later: clients connect again (graphql-ws's client takes 4500 as final)
          c.extra.socket.close(TRY_AGAIN_LATER_CLOSE_CODE, DATABASE_UNAVAILABLE.message);
          return false;
        }
        if (!ctx.user) return false;
        ctx.flow = attachFlowGate(c.extra.socket);
        c.extra.ctx = ctx;
        c.extra.keyHash = ctx.user.apiKeyHash;
        sessions.add(c.extra.socket, ctx.user);
        return true;
      },
      // Our parse, limits and validation (graphql-ws's own `validate` would not apply the
      // limits), then a fresh EntityManager and the user as it is now for each operation.
      onSubscribe: async (c, _id, payload) => {
        // c.subscriptions already holds this operation
        if (Object.keys(c.subscriptions).length > GRAPHQL_LIMITS.maxSubscriptionsPerConnection) {
          const n = GRAPHQL_LIMITS.maxSubscriptionsPerConnection;
          return [limitError(`at most ${n} subscriptions may be open on one connection (the subscription limit is ${n}); complete one first`, 'subscribe')];
        }
        const prepared = prepareOperation(schema, costs, payload.query, payload.variables, payload.operationName);
        if (prepared.errors) return [...prepared.errors];
        const base = c.extra.ctx!;
        const em = services.orm.em.fork();
        let user: User | null;
        try {
          user = await em.findOne(User, { id: base.user!.id });
        } catch (err) {
          // SERVICE_UNAVAILABLE for this operation (onError formats it); the connection's others go on
          if (databaseOutOfReach(err)) return [new GraphQLError(DATABASE_UNAVAILABLE.message, { originalError: err as Error })];
          throw err;
        }
        if (!user || user.apiKeyHash !== c.extra.keyHash) {
          // rotated while the NOTIFY was missed
          c.extra.socket.close(KEY_ROTATED_CLOSE_CODE, 'Forbidden: the API key of this connection was rotated');
          return [new GraphQLError('the API key of this connection was rotated', { originalError: forbidden('the API key of this connection was rotated') })];
        }
        return {
          schema,
          document: prepared.document,
          operationName: payload.operationName,
          variableValues: payload.variables,
          contextValue: { services, user, automated: base.automated, flow: base.flow, em, loaders: createLoaders(em, services) } satisfies GraphQLContext,
        };
      },
      // the same error shapes as over HTTP (codes, fields, no internals)
      onError: (_c, _id, _payload, errors) => errors.map((e) => formatGraphQLError(e.toJSON(), e, (m, err) => log.error(m, err))),
      onNext: (_c, _id, _payload, _args, result) =>
        result.errors ? { ...result, errors: result.errors.map((e) => formatGraphQLError(e.toJSON(), e, (m, err) => log.error(m, err))) } : undefined,
    },
    wss,
  );

  const apollo = new ApolloServer<GraphQLContext>({
    schema,
    // the same limits as the websocket: checkSource runs first (below); these repeat its
    // rules for whatever reaches Apollo another way, and the cost needs the variables
    validationRules: limitRules,
    parseOptions: { maxTokens: GRAPHQL_LIMITS.maxTokens },
    introspection: true,
    // src/cli.ts owns the signals and stops everything in order
    stopOnTerminationSignals: false,
    // credentials travel in the Authorization header, never in cookies: no CSRF to guard
    // against, and GET /graphql answers queries (README, Endpoints)
    csrfPrevention: false,
    includeStacktraceInErrorResponses: false,
    formatError: (formatted, error) => formatGraphQLError(formatted, error, (m, e) => log.error(m, e)),
    plugins: [
      textInputGuardPlugin<GraphQLContext>(),
      costLimitPlugin(schema, costs),
      subscriptionsOverWebsocketPlugin(),
      // the explorer is the console's GraphiQL (/explorer), bundled: no landing page loading Apollo's from a CDN
      ApolloServerPluginLandingPageDisabled(),
      // in-flight requests get 3 s at stop, so that the whole stop stays under 10 s
      ApolloServerPluginDrainHttpServer({ httpServer: server, stopGracePeriodMillis: 3_000 }),
      { async serverWillStart() { return { async drainServer() { log.debug('closing websockets'); await wsCleanup.dispose(); log.debug('websockets closed'); } }; } },
    ],
  });
  await apollo.start();

  app.use('/api/v2', createRestRouter(services));
  app.use('/api', restNotFound);
  app.get('/graphql', explorerRedirect);
  app.use(
    '/graphql',
    express.json({ limit: '1mb', verify: requireUtf8Body }),
    // a document over a limit is refused before graphql-js's own rules (some are quadratic) see it
    (req, res, next) => {
      const query = req.method === 'GET' ? req.query.query : (req.body as { query?: unknown } | undefined)?.query;
      const refused = typeof query === 'string' ? checkSource(schema, query) : [];
      if (!refused.length) return next();
      res.status(400).json({ errors: refused.map((e) => formatGraphQLError(e.toJSON(), e, (m, err) => log.error(m, err))) });
    },
    expressMiddleware(apollo, {
      context: async ({ req }) => {
        const header = req.headers[DELIVERY_HEADER];
        return contextFor(req.headers.authorization, typeof header === 'string' ? header : undefined);
      },
    }),
  );
  // the admin console: its files, and index.html for the client-side routes
  app.use(consoleRouter(services.config.consoleDir));
  app.use((err: unknown, req: express.Request, res: express.Response, _next: express.NextFunction) => {
    // in the shape of the endpoint's other errors: GraphQL's {errors: [{message, extensions}]}
    // on /graphql, the REST subset's {errors: [{code, message, field}]} elsewhere
    const fail = (status: number, code: string, message: string, field: string | null = null) =>
      res.status(status).json({
        errors: [req.path.startsWith('/graphql') ? { message, extensions: field ? { code, field } : { code } } : { code, message, field }],
      });
    // the router: a path parameter that is not valid percent-encoding (/api/v2/tickets/%E0%A4%A/)
    if (err instanceof URIError && (err as { status?: number }).status === 400) {
      fail(400, 'BAD_USER_INPUT', `the request path could not be read: ${err.message} (not valid percent-encoded UTF-8)`);
      return;
    }
    // body-parser: unreadable JSON or form bodies, too large, wrong charset. The REST subset
    // names the input at fault, here its body as a whole (as for a JSON body that is no
    // object); a GraphQL error's field names an argument of the operation, and none is at fault
    const status = (err as { status?: number }).status;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      fail(status, 'BAD_USER_INPUT', `the request body could not be read: ${(err as Error).message}`, req.path.startsWith('/api/') ? 'body' : null);
      return;
    }
    if (err instanceof DomainError) {
      fail(400, err.code, err.message, err.field ?? null);
      return;
    }
    if (databaseOutOfReach(err)) {
      log.error('the database is unavailable to an HTTP request', err);
      fail(503, DATABASE_UNAVAILABLE.code, DATABASE_UNAVAILABLE.message);
      return;
    }
    log.error('unexpected HTTP error', err);
    fail(500, 'INTERNAL_SERVER_ERROR', 'internal server error');
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

/** Refuses, once the operation is known, one that would fetch more objects than the cost limit. */
function costLimitPlugin(schema: GraphQLSchema, costs: CostModel): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, request, operation }) {
          if (!operation) return; // Apollo reports the unknown operation
          const refused = costLimitError(schema, costs, document, request.variables, operation.name?.value);
          if (refused) throw refused;
        },
      };
    },
  };
}

/** A subscription sent over HTTP is refused, saying where subscriptions run (they stream: the websocket). */
function subscriptionsOverWebsocketPlugin(): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation }) {
          if (operation?.operation !== 'subscription') return;
          throw new GraphQLError('subscriptions run over the websocket at /graphql (protocol graphql-transport-ws), not over HTTP', {
            extensions: { code: 'BAD_REQUEST', http: { status: 400 } },
          });
        },
      };
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
