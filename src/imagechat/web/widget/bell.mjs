// The bell on the image: the viewer's unread count (notifications.mjs keeps it), and its
// list in a small non-modal dialog. Keyboard: Enter on the bell opens it on its first
// entry, arrow keys move between entries, Escape closes it and goes back to the bell.
// Choosing an entry marks it read and opens its conversation: on an image of this page if
// it is there, else on the page it was written on (`#imagechat=<chatId>`).
//
// `widget` gives t, opts, tools (the bar on the image), channel, markers, announce and
// showConversation.

import { el, formatTime, htmlToText, icon } from './dom.mjs';
import { uuid } from './ids.mjs';

const KINDS = { mention: 'noteMention', reply: 'noteReply', resolved: 'noteResolved', reopened: 'noteReopened' };

export function describe(t, n) {
  return t(KINDS[n.kind] || 'noteReply', { name: n.fromUserName || t('someone'), text: htmlToText(n.contextHTML) });
}

export class Bell {
  constructor(widget, center) {
    this.widget = widget;
    this.center = center;
    const t = widget.t, tools = widget.tools;
    const id = 'ic-notes-' + uuid();
    this.btn = tools.appendChild(el('button', 'ic-tool ic-bell', { type: 'button', 'aria-expanded': 'false', 'aria-controls': id }));
    this.btn.appendChild(icon('bell'));
    this.badge = this.btn.appendChild(el('span', 'ic-bell-count', { 'aria-hidden': 'true', hidden: '' }));
    this.btn.addEventListener('click', () => { if (this.isOpen) this.close(true); else this.open(); });
    const popup = tools.appendChild(el('section', 'ic-notes', { id, role: 'dialog', 'aria-label': t('notesTitle'), hidden: '' }));
    const head = popup.appendChild(el('div', 'ic-notes-head'));
    head.appendChild(el('h2', 'ic-notes-title')).textContent = t('notesTitle');
    this.allBtn = head.appendChild(el('button', 'ic-link ic-notes-all', { type: 'button' }));
    this.allBtn.textContent = t('markAll');
    this.allBtn.addEventListener('click', () => this.markAll());
    this.list = popup.appendChild(el('ul', 'ic-notes-list'));
    this.status = popup.appendChild(el('p', 'ic-muted ic-pad'));
    popup.addEventListener('keydown', (e) => this.onKey(e));
    this.popup = popup;
    // While open, a click elsewhere closes it (no listener otherwise).
    this.onOutside = (e) => { if (!tools.contains(e.target)) this.close(false); };
    center.join(this);
    this.changed();
  }

  get isOpen() { return !this.popup.hidden; }

  // What routing needs to know of this image.
  target() {
    const w = this.widget;
    return { urlId: w.channel ? w.channel.urlId : null, has: (id) => w.markers.has(id), widget: w };
  }

  changed() {
    const t = this.widget.t, n = this.center.count || 0;
    this.badge.textContent = n > 99 ? '99+' : String(n);
    this.badge.hidden = !n;
    this.btn.setAttribute('aria-label', n ? t('bellUnread', { n }) : t('bell'));
    if (this.isOpen) this.renderList();
  }

  noticed(n) { this.widget.announce(this.widget.t('noteNew', { text: describe(this.widget.t, n) })); }

  async open() {
    const w = this.widget;
    this.popup.hidden = false;
    this.btn.setAttribute('aria-expanded', 'true');
    w.tools.classList.add('ic-raised');
    document.addEventListener('pointerdown', this.onOutside, true);
    this.renderList();
    if (this.center.items === null) {
      this.status.textContent = w.t('loading');
      try { await this.center.readList(); } catch (e) {
        if (this.isOpen) this.status.textContent = w.t('errNotes', { reason: e.message });
        return;
      }
    }
    if (!this.isOpen) return;
    const first = this.list.querySelector('.ic-note');
    (first || this.allBtn).focus();
  }

  close(focusBell) {
    if (!this.isOpen) return;
    this.popup.hidden = true;
    this.btn.setAttribute('aria-expanded', 'false');
    this.widget.tools.classList.remove('ic-raised');
    document.removeEventListener('pointerdown', this.onOutside, true);
    if (focusBell) this.btn.focus();
  }

  renderList() {
    const w = this.widget, t = w.t, items = this.center.items;
    const focused = this.list.contains(document.activeElement) ? document.activeElement.dataset.id : null;
    this.list.textContent = '';
    (items || []).forEach((n) => {
      const b = this.list.appendChild(el('li')).appendChild(el('button', 'ic-note' + (n.viewed ? '' : ' ic-unread'), { type: 'button' }));
      b.dataset.id = n._id;
      b.appendChild(el('span', 'ic-note-text')).textContent = describe(t, n);
      const when = formatTime(n.createdAt, w.opts.locale);
      b.appendChild(el('span', 'ic-note-meta')).textContent = n.pageTitle ? n.pageTitle + ' · ' + when : when;
      if (!n.viewed) b.appendChild(el('span', 'ic-sr')).textContent = t('unread');
      b.addEventListener('click', () => this.pick(n));
      if (n._id === focused) b.focus();
    });
    this.allBtn.hidden = !(items || []).some((n) => !n.viewed);
    if (items) this.status.textContent = items.length ? '' : t('notesEmpty');
    this.status.hidden = !this.status.textContent;
  }

  onKey(e) {
    if (e.key === 'Escape') { e.stopPropagation(); this.close(true); return; }
    const notes = Array.from(this.list.querySelectorAll('.ic-note'));
    const at = notes.indexOf(document.activeElement);
    const to = { ArrowDown: at + 1, ArrowUp: at - 1, Home: 0, End: notes.length - 1 }[e.key];
    if (to === undefined || !notes.length) return;
    e.preventDefault();
    notes[Math.max(0, Math.min(notes.length - 1, to))].focus();
  }

  async markAll() {
    try { await this.center.markAllRead(); } catch (e) { this.status.textContent = this.widget.t('errNotes', { reason: e.message }); this.status.hidden = false; }
    if (this.isOpen) (this.list.querySelector('.ic-note') || this.btn).focus();
  }

  // Read first (a navigation would cut the request off), then go.
  async pick(n) {
    this.close(false);
    try { await this.center.markRead(n); } catch (e) { /* it stays unread; open it anyway */ }
    const where = this.center.route(n);
    if (!where) { this.btn.focus(); return; }
    if (where.target) where.target.widget.showConversation(where.chatId);
    else location.assign(where.href);
  }

  destroy() {
    this.close(false);
    this.center.leave(this);
    this.btn.remove();
    this.popup.remove();
  }
}
