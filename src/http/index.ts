/** HTTP: the express app with Apollo and the REST subset, graphql-ws, per-connection flow control. */
export { createHttpApp, DELIVERY_HEADER, type HttpApp, type HttpAppOptions } from './server.js';
export { attachFlowGate } from './ws-flow.js';
export { createWsSessions, KEY_ROTATED_CLOSE_CODE, type WsSessions } from './ws-sessions.js';
