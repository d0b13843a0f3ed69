/** Public surface of the template modules. */
export {
  TEMPLATE_TAGS,
  HDE_ALIASES,
  isKnownPath,
  type TemplateScope,
  type TemplateTagInfo,
} from './catalogue.js';
export {
  compileTemplate,
  checkTemplate,
  renderTemplate,
  templateTagsUsed,
  clearTemplateCache,
  templateCacheSize,
  TEMPLATE_CACHE_MAX,
  type CompiledTemplate,
} from './compile.js';
export { TemplateError, textBeforeFirstTag } from './scan.js';
export {
  ESCAPERS,
  bodyEscaper,
  escapeUrl,
  escapeJson,
  escapeXml,
  escapeForm,
  escapeHeader,
  escapeText,
  headerValueAsUtf8Bytes,
  type Escaper,
  type Destination,
} from './escape.js';
export { lookupPath, toText } from './lookup.js';
