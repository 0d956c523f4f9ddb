// The composer's `@` suggestions without the DOM: where a mention is being typed, which
// users fit it, what the keys do to the list, and what picking one does to the text.
// mentions.mjs draws it; tests/widget/combobox.test.mjs runs this under Node.

// The server answers at most this many users for a prefix (GET /user-search).
export const MAX_SUGGESTIONS = 10;
const MAX_QUERY_CHARS = 40;
// What may stand right before an `@` that starts a mention (not an e-mail address).
const BEFORE_AT = /[\s([{"'«„]/;

// The mention typed just before the caret: {start (the index of its `@`), query}, or null.
// The query may hold single spaces (names do), but no line break and no second `@`.
export function mentionAt(text, caret) {
  const before = String(text).slice(0, caret);
  const at = before.lastIndexOf('@');
  if (at < 0 || (at > 0 && !BEFORE_AT.test(before[at - 1]))) return null;
  const query = before.slice(at + 1);
  if (query.length > MAX_QUERY_CHARS || /[\n@]|^\s|\s\s/.test(query)) return null;
  return { start: at, query };
}

// Names compared as people type them: any letter case, accents optional.
export function fold(s) {
  return String(s || '').normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase();
}

export function userName(u) { return u.displayName || u.name || u.id; }

// The users whose name starts with the query (as the server matches), each once.
export function filterUsers(users, query) {
  const q = fold(query);
  const seen = new Set();
  return users.filter((u) => {
    if (seen.has(u.id) || !fold(userName(u)).startsWith(q)) return false;
    seen.add(u.id);
    return true;
  }).slice(0, MAX_SUGGESTIONS);
}

// The users for `query` from earlier answers, without asking: an answer for a prefix of it
// that was complete (fewer than the server's maximum) holds every user that can match.
// `cache`: a Map of folded query -> the users answered. null: ask the server.
export function fromCache(cache, query) {
  const q = fold(query);
  for (let n = q.length; n >= 0; n--) {
    const users = cache.get(q.slice(0, n));
    if (users && (n === q.length || users.length < MAX_SUGGESTIONS)) return filterUsers(users, query);
  }
  return null;
}

// The text with the mention being typed replaced by `@name ` and the caret after it.
export function insertMention(text, mention, caret, name) {
  const tag = '@' + name;
  const head = text.slice(0, mention.start) + tag + ' ';
  const tail = text.slice(caret).replace(/^ /, '');
  return { text: head + tail, caret: head.length, tag };
}

// The picked mentions whose tag is still in the text, each user once: what is posted.
export function mentionsIn(text, picked) {
  const seen = new Set();
  return picked.filter((m) => {
    if (seen.has(m.id) || text.indexOf(m.tag) < 0) return false;
    seen.add(m.id);
    return true;
  });
}

// The list's state: its items, which one is active (aria-activedescendant), and keys.
export class ComboState {
  constructor() { this.close(); }

  get open() { return this.items.length > 0; }

  get active() { return this.open ? this.items[this.index] : null; }

  show(items) {
    const keep = this.active;
    this.items = items.slice();
    const at = keep ? this.items.findIndex((u) => u.id === keep.id) : -1;
    this.index = at >= 0 ? at : 0;
  }

  close() { this.items = []; this.index = -1; }

  // What a key does while the list is open: 'move' (another item is active), 'pick' (the
  // active item is chosen), 'close' (the list is dismissed), or null: the key is the
  // composer's (typing, or Enter to send when no list is open).
  key(name) {
    const n = this.items.length;
    if (!n) return null;
    if (name === 'ArrowDown') { this.index = (this.index + 1) % n; return 'move'; }
    if (name === 'ArrowUp') { this.index = (this.index - 1 + n) % n; return 'move'; }
    if (name === 'Enter' || name === 'Tab') return 'pick';
    if (name === 'Escape') { this.close(); return 'close'; }
    return null;
  }
}
