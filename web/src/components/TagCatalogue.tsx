/**
 * The template tags (templateTags), searchable; each tag is a button named by its path
 * that inserts `{{ path }}` (an alias `{name}` as written) into the last focused template field.
 * The list is one Tab stop: the arrow keys, Home and End move between its tags (roving tabindex).
 */
import { useId, useMemo, useRef, useState, type KeyboardEvent } from 'react';

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
  // the tag that takes the list's one Tab stop: the one used or moved to last, else the first shown
  const [current, setCurrent] = useState<string | null>(null);
  const active = shown.some((t) => t.name === current) ? current : (shown[0]?.name ?? null);
  const listRef = useRef<HTMLUListElement>(null);

  function onKeyDown(e: KeyboardEvent<HTMLUListElement>) {
    const i = shown.findIndex((t) => t.name === active);
    const last = shown.length - 1;
    const next =
      e.key === 'ArrowDown' || e.key === 'ArrowRight'
        ? Math.min(i + 1, last)
        : e.key === 'ArrowUp' || e.key === 'ArrowLeft'
          ? Math.max(i - 1, 0)
          : e.key === 'Home'
            ? 0
            : e.key === 'End'
              ? last
              : null;
    if (next === null || next < 0) return;
    e.preventDefault();
    setCurrent(shown[next]!.name);
    listRef.current?.querySelectorAll<HTMLButtonElement>('button.tag')[next]?.focus();
  }
  return (
    <section className="tags" aria-labelledby={`${listId}-h`}>
      <h2 id={`${listId}-h`}>Template tags</h2>
      <p className="muted">
        A tag goes in at the caret of <strong>{target}</strong>.
      </p>
      <label htmlFor={searchId}>Search tags</label>
      <input id={searchId} type="search" value={search} onChange={(e) => setSearch(e.target.value)} aria-controls={listId} />
      {/* what a search found (nothing is said before one: the tags arriving with the page are no news) */}
      <p role="status" className={shown.length ? 'visually-hidden' : 'muted'}>
        {!search.trim() ? '' : shown.length ? `${shown.length} ${shown.length === 1 ? 'tag matches' : 'tags match'}.` : `No tag matches “${search.trim()}”.`}
      </p>
      <p id={`${listId}-keys`} className="hint">
        In the list, the arrow keys, Home and End move between tags; Enter inserts one.
      </p>
      {/* no empty list under the text saying so: a screen reader would add "list, 0 items" */}
      {shown.length ? (
        <ul id={listId} ref={listRef} aria-label="Tags" aria-describedby={`${listId}-keys`} className="tag-list" onKeyDown={onKeyDown}>
          {shown.map((t, i) => {
            const descId = `${listId}-${i}`;
            return (
              <li key={t.name}>
                <button
                  type="button"
                  className="tag"
                  tabIndex={t.name === active ? 0 : -1}
                  aria-describedby={descId}
                  onFocus={() => setCurrent(t.name)}
                  onClick={() => {
                    setCurrent(t.name);
                    onInsert(t);
                  }}
                >
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
      ) : null}
    </section>
  );
}
