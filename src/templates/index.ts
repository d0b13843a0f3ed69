/**
 * Templates: the allow-listed context (types.ts, built by context.ts), the tag catalogue,
 * the scanner that admits only known tags, compilation through Eta, and escaping by
 * destination. Used by delivery (requests, success comments), the dispatcher (action
 * values) and the resolvers (tag list, previews).
 */
export type { TemplateContext, TicketView, UserView, PostView } from './types.js';
export {
  buildTemplateContext,
  contextFrom,
  lastPostsKey,
  loadLastPosts,
  loadTicketsAndLastPosts,
  ticketsAndLastPostsQuery,
  type TicketsAndLastPosts,
  loadTicketForTemplates,
  NO_POSTS,
  ticketView,
  userView,
  type ContextExtras,
  type LastPosts,
  type TemplateTicket,
} from './context.js';
export { sampleContext } from './sample-context.js';
export {
  TEMPLATE_TAGS,
  templateTagsWith,
  HDE_ALIASES,
  isKnownPath,
  type TemplateScope,
  type TemplateTagInfo,
  type CatalogueField,
} from './catalogue.js';
export {
  compileTemplate,
  checkTemplate,
  renderTemplate,
  templateTagsUsed,
  clearTemplateCache,
  templateCacheSize,
  TEMPLATE_CACHE_MAX,
  RenderedTooLongError,
  type CompiledTemplate,
} from './compile.js';
export { TemplateError, textBeforeFirstTag, scanTemplate, positionOf, type Part, type TagPart, type XmlPosition } from './scan.js';
export { unknownCustomFieldTag } from './custom-tags.js';
export {
  ESCAPERS,
  bodyEscaper,
  bodyXmlEscapers,
  escapeUrl,
  escapeJson,
  escapeXml,
  escapeXmlCdata,
  escapeXmlAttribute,
  escapeForm,
  escapeHeader,
  escapeText,
  headerValueAsUtf8Bytes,
  type Escaper,
  type XmlEscapers,
  type Destination,
} from './escape.js';
export { lookupPath, toText } from './lookup.js';
