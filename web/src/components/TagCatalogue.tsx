/**
 * The template tags (templateTags), searchable; each tag is a button named by its path
 * that inserts `{{ path }}` (an alias `{name}` as written) into the last focused template field.
 */
import { useId, useMemo, useState } from 'react';

export interface Tag {
  name: string;
  description: string;
  example?: string | null;
}

/** What a tag inserts: `{{ path }}` for a path, the alias itself for a `{alias}` tag. */
export const tagSnippet = (name: string) => (name.startsWith('{') ? name : `{{ ${name} }}`);

export function TagCatalogue({ tags, target, onInsert }: { tags: readonly Tag[]; target: string; onInsert: (tag: Tag) => void }) {
  const [search, setSearch] = useState('');
  const searchId = useId();
  const listId = useId();
  const shown = useMemo(() => {
    const q = search.trim().toLowerCase();
    return q ? tags.filter((t) => t.name.toLowerCase().includes(q) || t.description.toLowerCase().includes(q)) : tags;
  }, [tags, search]);
  return (
    <section className="tags" aria-labelledby={`${listId}-h`}>
      <h2 id={`${listId}-h`}>Template tags</h2>
      <p className="muted">
        A tag goes in at the caret of <strong>{target}</strong>.
      </p>
      <label htmlFor={searchId}>Search tags</label>
      <input id={searchId} type="search" value={search} onChange={(e) => setSearch(e.target.value)} aria-controls={listId} />
      <p role="status" className="visually-hidden">
        {shown.length} tags
      </p>
      <ul id={listId} aria-label="Tags" className="tag-list">
        {shown.map((t, i) => {
          const descId = `${listId}-${i}`;
          return (
            <li key={t.name}>
              <button type="button" className="tag" aria-describedby={descId} onClick={() => onInsert(t)}>
                {t.name}
              </button>
              <span id={descId} className="muted">
                {t.description}
                {t.example ? ` (e.g. ${t.example})` : ''}
              </span>
            </li>
          );
        })}
      </ul>
    </section>
  );
}
