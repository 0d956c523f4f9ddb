// The chat window: built when opened, removed when closed, one per image at a time. It
// shows a conversation's thread and writes to it, or sends the first message of a new one.
// Writes are optimistic: a message shows at once and is taken back if the server refuses.
//
// Under the title, the conversation's resolved state, Resolve/Reopen and Follow
// (chat-bar.mjs); under each message, its reactions (reactions.mjs); in the composer, `@`
// suggestions (mentions.mjs).
//
// `widget` (widget.mjs) gives: t, opts, user, readonly, img, markers, rest, win (the open
// window) and error, refuseIfDown, closeWindow, openWindow, placeWindow, upsertConversation,
// conversationChanged, bumpCount, removeConversation, deleteConversation, announce.

import { ConversationBar } from './chat-bar.mjs';
import { button, el, formatTime, htmlToText } from './dom.mjs';
import { anonUserId, newBroadcastId, rememberEditKey, storage, uuid } from './ids.mjs';
import { FULLSCREEN_BELOW_PX, windowPlacement } from './markers.mjs';
import { MentionBox } from './mentions.mjs';
import { banAuthor, isModerator, keyQuery, owns } from './moderation.mjs';
import { pageUrl } from './notifications.mjs';
import { ReactionBar } from './reactions.mjs';

export class ConversationWindow {
  constructor(widget, chatId) {
    this.widget = widget;
    this.chatId = chatId;
    this.comments = new Map(); // id -> comment, in the thread shown
    this.items = new Map(); // id -> its <li>
    this.bars = new Map(); // id -> its ReactionBar, kept when its <li> is redrawn
    this.bar = null; // the ConversationBar, for a conversation that exists
    this.mention = null;
    this.replyTo = null;
    this.build();
  }

  // Still the image's open window (async work checks this before touching it).
  get open() { return this.widget.win === this; }

  get conversation() { return this.chatId ? this.widget.markers.data(this.chatId) : null; }

  build() {
    const w = this.widget, t = w.t;
    const conversation = this.conversation;
    const title = conversation ? t('dialog', { n: w.markers.index(this.chatId) }) : t('newDialog');
    const root = el('section', 'ic-win', { role: 'dialog', 'aria-label': title });
    const head = root.appendChild(el('div', 'ic-head'));
    const h = head.appendChild(el('h2', 'ic-title'));
    h.textContent = title;
    if (conversation && (owns(w.user, conversation) || isModerator(w.user)) && !w.readonly) {
      const del = head.appendChild(button('ic-btn ic-link ic-del-chat', t('delChat')));
      del.addEventListener('click', () => w.deleteConversation(this.chatId));
    }
    const close = head.appendChild(button('ic-btn ic-close', '×', t('close')));
    close.addEventListener('click', () => w.closeWindow());
    this.root = root;
    if (conversation) { this.bar = new ConversationBar(this); root.appendChild(this.bar.root); }
    this.msgs = root.appendChild(el('div', 'ic-msgs', { tabindex: '0', role: 'region', 'aria-label': t('messages') }));
    this.list = this.msgs.appendChild(el('ul', 'ic-list'));
    this.status = this.msgs.appendChild(el('p', 'ic-muted'));
    this.status.textContent = conversation ? t('loading') : t('empty');
    this.errorBox = root.appendChild(el('p', 'ic-error', { role: 'alert', hidden: '' }));
    if (w.readonly) {
      const ro = root.appendChild(el('p', 'ic-muted ic-pad'));
      ro.textContent = t('readonly');
    } else this.buildComposer();
    root.addEventListener('keydown', (e) => { if (e.key === 'Escape') { e.stopPropagation(); w.closeWindow(); } });
  }

  buildComposer() {
    const w = this.widget, t = w.t;
    const form = this.root.appendChild(el('form', 'ic-form'));
    this.replyChip = form.appendChild(el('p', 'ic-reply-chip', { hidden: '' }));
    if (!w.opts.sso && !storage.get('name', '')) {
      this.name = form.appendChild(el('input', 'ic-input ic-name-input', { type: 'text', 'aria-label': t('name'), placeholder: t('name'), maxlength: '100', autocomplete: 'name' }));
    }
    const row = form.appendChild(el('div', 'ic-row'));
    this.text = row.appendChild(el('textarea', 'ic-input ic-text', { rows: '2', 'aria-label': t('message'), placeholder: t('placeholder'), maxlength: '5000' }));
    const send = row.appendChild(button('ic-btn ic-primary ic-send', t('send')));
    send.type = 'submit';
    const conversation = this.conversation;
    this.mention = new MentionBox(w, this.text, conversation ? conversation.windowUrlId : w.opts.urlId);
    // Enter sends, Shift+Enter makes a new line: the usual chat convention. While the `@`
    // list is open, its keys come first.
    this.text.addEventListener('keydown', (e) => {
      if (this.mention.onKey(e)) return;
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); form.requestSubmit(); }
    });
    form.addEventListener('submit', (e) => { e.preventDefault(); this.submit(); });
    this.form = form;
  }

  focusComposer() {
    const target = (this.name && !this.name.value.trim()) ? this.name : this.text || this.root.querySelector('.ic-close');
    if (target) target.focus();
  }

  // Next to its marker where it fits (markers.mjs), or fullscreen on a narrow screen.
  place() {
    const w = this.widget, root = this.root;
    const full = innerWidth < FULLSCREEN_BELOW_PX;
    root.classList.toggle('ic-full', full);
    root.classList.remove('to-right', 'to-left', 'to-top', 'to-bottom');
    root.style.left = root.style.top = '';
    if (full) return;
    const pos = this.chatId ? this.conversation : w.markers.pendingPos;
    if (!pos) return;
    const box = w.img.getBoundingClientRect();
    const at = windowPlacement(box, { width: innerWidth, height: innerHeight }, pos, w.opts.chatSquarePercentage, root.offsetHeight);
    root.classList.add('to-' + at.side);
    root.style.left = at.left + 'px';
    root.style.top = at.top + 'px';
  }

  // -- the thread
  async load() {
    const w = this.widget;
    const conversation = this.conversation;
    if (!conversation) return;
    try {
      const res = await w.rest.listComments(conversation.windowUrlId);
      if (!this.open) return;
      this.comments.clear(); this.items.forEach((li) => li.remove()); this.items.clear(); this.bars.clear();
      (res.comments || []).forEach((c) => this.addComment(c));
      this.updateStatus();
    } catch (e) {
      if (this.open) this.status.textContent = w.t('errLoad', { reason: e.message });
    }
  }

  updateStatus() {
    if (!this.open) return;
    this.status.textContent = this.comments.size ? '' : this.widget.t('empty');
    this.status.hidden = !!this.comments.size;
    this.place();
  }

  depthOf(c) {
    let d = 0, p = c.parentId;
    while (p && this.comments.has(p) && d < 50) { d++; p = this.comments.get(p).parentId; }
    return d;
  }

  // The conversation's data changed (resolved, reopened).
  conversationChanged() { if (this.bar) this.bar.render(); }

  // Insert or replace one message, keeping others (and any edit in progress) untouched. A
  // copy that changes only its reactions (a live event) updates them in place, so that a
  // reaction button keeps the focus; `redraw` draws the message again all the same.
  addComment(c, redraw) {
    const known = this.comments.get(c._id), bar = this.bars.get(c._id);
    if (bar) {
      bar.live(c);
      c = Object.assign({}, c, bar.value);
    }
    this.comments.set(c._id, c);
    if (known && !redraw && known.commentHTML === c.commentHTML && known.commenterName === c.commenterName) return;
    const li = this.messageItem(c);
    const old = this.items.get(c._id);
    this.items.set(c._id, li);
    if (old) { old.replaceWith(li); return; }
    const depth = this.depthOf(c);
    let before = null;
    if (c.parentId && this.items.has(c.parentId)) {
      // After the parent's last descendant.
      let n = this.items.get(c.parentId).nextElementSibling;
      while (n && Number(n.dataset.depth) > depth - 1) n = n.nextElementSibling;
      before = n;
    } else {
      const time = Date.parse(c.date) || Infinity;
      before = Array.from(this.list.children).find((n) => n.dataset.depth === '0' && Number(n.dataset.time) > time) || null;
    }
    this.list.insertBefore(li, before);
    this.scrollToEnd(li);
  }

  scrollToEnd(li) {
    if (!li.nextElementSibling) this.msgs.scrollTop = this.msgs.scrollHeight;
  }

  removeComment(id) {
    if (!this.comments.has(id)) return;
    // Replies go with their parent, as on the server.
    this.comments.forEach((c) => { if (c.parentId === id) this.removeComment(c._id); });
    this.comments.delete(id);
    this.bars.delete(id);
    const li = this.items.get(id);
    if (li) li.remove();
    this.items.delete(id);
  }

  messageItem(c, sending) {
    const li = el('li', 'ic-msg' + (sending ? ' ic-sending' : ''));
    const depth = sending ? (c.depth || 0) : this.depthOf(c);
    li.dataset.id = c._id; li.dataset.depth = String(depth); li.dataset.time = String(Date.parse(c.date) || Date.now());
    li.style.setProperty('--ic-depth', String(depth));
    const meta = li.appendChild(el('div', 'ic-meta'));
    const name = meta.appendChild(el('span', 'ic-name'));
    name.textContent = c.commenterName || '';
    const time = meta.appendChild(el('time', 'ic-time', { datetime: c.date || null }));
    time.textContent = sending ? this.widget.t('sending') : this.formatTime(c.date);
    const body = li.appendChild(el('div', 'ic-body'));
    // Only the server-sanitized HTML is rendered as HTML; our own text goes in as text.
    if (sending) body.textContent = c.comment; else body.innerHTML = c.commentHTML || '';
    if (sending) return li;
    // Its reactions, then what the visitor may do with it, on one line where they fit.
    let bar = this.bars.get(c._id);
    if (!bar) { bar = new ReactionBar(this.widget, c); this.bars.set(c._id, bar); }
    const foot = li.appendChild(el('div', 'ic-foot'));
    foot.appendChild(bar.root);
    this.addActions(foot, c, depth);
    return li;
  }

  addActions(into, c, depth) {
    const w = this.widget, t = w.t;
    if (w.readonly) return;
    const actions = el('div', 'ic-actions');
    const name = c.commenterName || '';
    const mine = owns(w.user, c), moderator = isModerator(w.user);
    if (depth < w.opts.maxReplyDepth) {
      const r = actions.appendChild(button('ic-link ic-reply', t('reply'), t('reply') + ': ' + name));
      r.addEventListener('click', () => this.setReplyTo(c));
    }
    if (mine) {
      const e = actions.appendChild(button('ic-link ic-edit', t('edit'), t('edit') + ': ' + name));
      e.addEventListener('click', () => this.startEdit(c));
    }
    if (mine || moderator) {
      const d = actions.appendChild(button('ic-link ic-delete', t('del'), t('del') + ': ' + name));
      d.addEventListener('click', () => this.deleteComment(c._id));
    }
    if (moderator && !mine && (c.userId || c.anonUserId)) {
      const b = actions.appendChild(button('ic-link ic-ban', t('ban'), t('ban') + ': ' + name));
      b.addEventListener('click', () => banAuthor(w, c, b));
    }
    if (actions.children.length) into.appendChild(actions);
  }

  formatTime(iso) { return formatTime(iso, this.widget.opts.locale); }

  setReplyTo(c) {
    if (!this.form) return;
    const t = this.widget.t;
    this.replyTo = c;
    this.replyChip.textContent = '';
    const label = this.replyChip.appendChild(el('span'));
    label.textContent = t('replyingTo', { name: c.commenterName || '' });
    const x = this.replyChip.appendChild(button('ic-link', '×', t('cancel')));
    x.addEventListener('click', () => { this.replyTo = null; this.replyChip.hidden = true; this.text.focus(); });
    this.replyChip.hidden = false;
    this.text.focus();
  }

  // -- writing
  commenterName() {
    const w = this.widget;
    if (w.opts.sso) return (w.user && (w.user.displayName || w.user.username)) || '';
    if (this.name) {
      const n = this.name.value.trim();
      if (!n) return null;
      storage.set('name', n);
      return n;
    }
    return storage.get('name', '');
  }

  submit() {
    const w = this.widget;
    if (!this.open || !this.text) return;
    const text = this.text.value.trim();
    if (!text) return;
    if (w.refuseIfDown()) return;
    const name = this.commenterName();
    if (name === null) { w.error(w.t('needName')); this.name.focus(); return; }
    this.errorBox.hidden = true;
    if (this.name) { this.name.remove(); this.name = null; }
    const mentions = this.mention.take(text);
    if (this.chatId) this.postReply(text, name, mentions); else this.createConversation(text, name, mentions);
  }

  showSending(text, name, parentId) {
    const temp = { _id: 'tmp-' + uuid(), comment: text, commenterName: name, date: new Date().toISOString(), depth: parentId && this.replyTo ? this.depthOf(this.replyTo) + 1 : 0 };
    const li = this.messageItem(temp, true);
    const parentLi = parentId && this.items.get(parentId);
    this.list.insertBefore(li, parentLi ? parentLi.nextElementSibling : null);
    this.status.hidden = true;
    this.text.value = '';
    this.scrollToEnd(li);
    this.place();
    return li;
  }

  // The write failed: take the message back and give its text back to the composer.
  rollback(li, text, message) {
    li.remove();
    if (this.open) {
      if (!this.text.value) this.text.value = text;
      this.updateStatus();
    }
    this.widget.error(message);
  }

  // A new conversation exists on the server only once its first message is sent.
  async createConversation(text, name, mentions) {
    const w = this.widget;
    const pos = w.markers.pendingPos, region = w.markers.pendingRegion;
    const li = this.showSending(text, name, null);
    try {
      const res = await w.rest.createConversation({
        urlId: w.opts.urlId, x: pos.x, y: pos.y, region: region || undefined, comment: text, commenterName: name, mentions,
        anonUserId: w.opts.sso ? undefined : anonUserId(), broadcastId: newBroadcastId(),
        pageTitle: document.title, src: w.img.currentSrc || w.img.src, url: pageUrl(location.href)
      });
      rememberEditKey([res.chat._id, res.comment && res.comment._id].filter(Boolean), res.editKey);
      li.remove();
      if (this.open) w.closeWindow(true, false); else w.markers.dropPending();
      w.upsertConversation(res.chat);
      // Reopen as the real conversation, with the message the server stored.
      w.openWindow(res.chat._id);
    } catch (e) {
      this.rollback(li, text, w.t('errSend', { reason: e.message }));
    }
  }

  async postReply(text, name, mentions) {
    const w = this.widget;
    const conversation = this.conversation;
    const parent = this.replyTo;
    const li = this.showSending(text, name, parent && parent._id);
    this.replyTo = null; this.replyChip.hidden = true;
    try {
      const res = await w.rest.postComment(conversation.windowUrlId, newBroadcastId(), {
        comment: text, commenterName: name, urlId: conversation.windowUrlId, parentId: parent ? parent._id : null,
        anonUserId: w.opts.sso ? undefined : anonUserId(), url: pageUrl(location.href), mentions,
        pageTitle: document.title
      });
      rememberEditKey([res.comment._id], res.editKey);
      li.remove();
      if (this.open) { this.addComment(res.comment); this.updateStatus(); if (this.bar) this.bar.followed(); }
      w.bumpCount(this.chatId, 1);
    } catch (e) {
      this.rollback(li, text, w.t('errSend', { reason: e.message }));
    }
  }

  startEdit(c) {
    const w = this.widget, t = w.t;
    const li = this.items.get(c._id);
    if (!li || li.querySelector('.ic-edit-form')) return;
    const form = el('form', 'ic-edit-form');
    const area = form.appendChild(el('textarea', 'ic-input', { rows: '2', 'aria-label': t('editLabel') }));
    area.value = c.comment || htmlToText(c.commentHTML);
    const save = form.appendChild(button('ic-btn ic-primary', t('save')));
    save.type = 'submit';
    const cancel = form.appendChild(button('ic-btn', t('cancel')));
    const body = li.querySelector('.ic-body');
    body.hidden = true;
    li.insertBefore(form, body.nextSibling);
    const stop = () => { form.remove(); body.hidden = false; };
    cancel.addEventListener('click', () => { stop(); li.querySelector('.ic-edit').focus(); });
    form.addEventListener('keydown', (e) => { if (e.key === 'Escape') { e.stopPropagation(); stop(); } });
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const text = area.value.trim();
      if (!text || w.refuseIfDown()) return;
      stop();
      this.saveEdit(c, text);
    });
    area.focus();
  }

  async saveEdit(c, text) {
    const w = this.widget;
    const li = this.items.get(c._id);
    const body = li.querySelector('.ic-body');
    body.textContent = text; // optimistic, as plain text until the server's HTML comes back
    li.classList.add('ic-sending');
    try {
      const res = await w.rest.updateComment(c._id, Object.assign({ broadcastId: newBroadcastId() }, keyQuery(w.opts.sso, c._id)), text);
      if (this.open) this.addComment(res.comment, true);
    } catch (e) {
      if (this.open && this.comments.has(c._id)) this.addComment(this.comments.get(c._id), true);
      w.error(w.t('errEdit', { reason: e.message }));
    }
  }

  async deleteComment(id) {
    const w = this.widget;
    if (w.refuseIfDown()) return;
    const chatId = this.chatId;
    const removed = Array.from(this.comments.values());
    this.removeComment(id);
    const lost = removed.length - this.comments.size;
    this.updateStatus();
    if (this.text) this.text.focus();
    try {
      await w.rest.deleteComment(id, Object.assign({ broadcastId: newBroadcastId() }, keyQuery(w.opts.sso, id)));
      // The marker goes with its last message (the server deletes it too).
      if (this.open && !this.comments.size) w.removeConversation(chatId); else w.bumpCount(chatId, -lost);
    } catch (e) {
      if (this.open) removed.forEach((c) => { if (!this.comments.has(c._id)) this.addComment(c); });
      this.updateStatus();
      w.error(w.t('errDel', { reason: e.message }));
    }
  }
}
