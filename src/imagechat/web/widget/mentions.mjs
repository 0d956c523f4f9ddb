// `@` in the composer: a list of the site's users to mention, from GET /user-search. The
// composer's textarea stays a textbox (HTML allows it no other role), inside a combobox
// that owns the listbox; the textarea keeps the focus and points at the active option
// with aria-activedescendant. Arrow keys move, Enter or Tab picks, Escape closes. Picked
// users go in the post's `mentions`; the server renders them in commentHTML.
//
// `widget` gives t, rest and opts.

import { el } from './dom.mjs';
import { ComboState, fold, fromCache, insertMention, mentionAt, mentionsIn, userName } from './combobox.mjs';
import { uuid } from './ids.mjs';

export class MentionBox {
  // Wraps `text` (the composer's textarea, already in the DOM) where it stands.
  constructor(widget, text, threadUrlId) {
    this.widget = widget;
    this.text = text;
    this.threadUrlId = threadUrlId;
    this.state = new ComboState();
    this.cache = new Map(); // folded query -> users answered
    this.asked = 0; // answers to older questions are dropped
    this.at = null; // the mention being typed
    this.dismissed = -1; // the `@` whose list Escape closed
    this.picked = [];
    const id = 'ic-suggest-' + uuid();
    this.root = el('div', 'ic-combo', { role: 'combobox', 'aria-expanded': 'false', 'aria-controls': id, 'aria-haspopup': 'listbox', 'aria-label': widget.t('message') });
    text.parentNode.insertBefore(this.root, text);
    this.root.appendChild(text);
    this.list = this.root.appendChild(el('ul', 'ic-suggest', { role: 'listbox', id, 'aria-label': widget.t('mentionList'), hidden: '' }));
    text.setAttribute('aria-autocomplete', 'list');
    text.setAttribute('aria-controls', id);
    text.addEventListener('input', () => this.update());
    text.addEventListener('blur', () => this.close());
    // Pointer picks keep the focus in the textarea.
    this.list.addEventListener('mousedown', (e) => e.preventDefault());
    this.list.addEventListener('click', (e) => {
      const li = e.target.closest('[role=option]');
      if (li) this.pick(this.state.items[Number(li.dataset.index)]);
    });
  }

  // The composer's keydown goes here first; true: the key was the list's.
  onKey(e) {
    if (e.isComposing) return false;
    const action = this.state.key(e.key);
    if (!action) return false;
    e.preventDefault();
    e.stopPropagation();
    if (action === 'pick') this.pick(this.state.active);
    else if (action === 'close') { this.dismissed = this.at ? this.at.start : -1; this.render(); } else this.render();
    return true;
  }

  update() {
    const text = this.text;
    const at = mentionAt(text.value, text.selectionStart);
    if (!at) this.dismissed = -1;
    if (!at || at.start === this.dismissed) { this.close(); return; }
    this.at = at;
    const known = fromCache(this.cache, at.query);
    if (known) { this.show(known); return; }
    const asked = ++this.asked;
    this.widget.rest.searchUsers(this.threadUrlId, at.query).then((res) => {
      this.cache.set(fold(at.query), res.users || []);
      if (asked === this.asked) this.show(fromCache(this.cache, at.query) || []);
    }, () => { if (asked === this.asked) this.close(); });
  }

  show(users) {
    if (!this.at) return;
    this.state.show(users);
    this.render();
  }

  close() {
    this.asked++;
    this.at = null;
    this.state.close();
    this.render();
  }

  render() {
    const s = this.state, list = this.list;
    list.textContent = '';
    s.items.forEach((u, i) => {
      const li = list.appendChild(el('li', 'ic-option', { role: 'option', id: list.id + '-' + i, 'aria-selected': String(i === s.index) }));
      li.dataset.index = String(i);
      li.textContent = userName(u);
    });
    list.hidden = !s.open;
    this.root.setAttribute('aria-expanded', String(s.open));
    if (s.open) {
      const active = list.children[s.index];
      this.text.setAttribute('aria-activedescendant', active.id);
      active.scrollIntoView({ block: 'nearest' });
    } else this.text.removeAttribute('aria-activedescendant');
  }

  pick(user) {
    if (!user || !this.at) return;
    const text = this.text;
    const done = insertMention(text.value, this.at, text.selectionStart, userName(user));
    text.value = done.text;
    text.setSelectionRange(done.caret, done.caret);
    this.picked.push({ id: user.id, tag: done.tag });
    this.close();
    text.focus();
  }

  // What the post mentions; forgotten once it is sent.
  take(text) {
    const found = mentionsIn(text, this.picked);
    this.picked = [];
    return found;
  }
}
