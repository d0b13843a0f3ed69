/**
 * Tags naming custom fields (`ticket.custom.<key>`, `parent.custom.<key>`) must name a
 * field that exists when the template is saved, as rule conditions must: a typo would
 * render empty for good. Checked where definitions are saved (webhooks, rule actions),
 * with the custom field keys of the database; a template that does not compile is
 * left to its own check.
 */
import { templateTagsUsed } from './compile.js';
import { positionOf } from './scan.js';

const CUSTOM_TAG = /^(ticket|parent)\.custom\.(.+)$/;

/** The first tag of `source` naming a custom field not in `known`, as a message with its line:column; null when there is none. */
export function unknownCustomFieldTag(source: string, known: ReadonlySet<string>): string | null {
  let paths: readonly string[];
  try {
    paths = templateTagsUsed(source);
  } catch {
    return null;
  }
  for (const path of paths) {
    const m = CUSTOM_TAG.exec(path);
    if (!m || known.has(m[2]!)) continue;
    const escaped = path.replace(/\./g, '\\.');
    const at = new RegExp(`\\{\\{\\s*${escaped}\\s*\\}\\}`).exec(source);
    const where = at ? ` at ${Object.values(positionOf(source, at.index)).join(':')}` : '';
    const choices = known.size ? `known: ${[...known].sort().join(', ')}` : 'there are none yet; create it first';
    return `unknown custom field "${m[2]}" in tag "{{ ${path} }}"${where} (${choices})`;
  }
  return null;
}
