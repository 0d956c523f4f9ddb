// Carry-over in the widget: when a new version arrives the server moves every conversation
// onto it and says how (`carry`). A `changed` one (the image was edited there: likely
// addressed) offers "mark resolved" in one click, next to its marker (markers.mjs). A
// `lost` one (no confident match) stays where it was, flagged, and waits in the "needs
// review" list: a person drags it from there onto its place (or picks it, moves the
// cross-hair with the arrow keys and presses Enter), which is `POST .../move` on the
// version shown.
//
// `widget` gives t, opts, user, readonly, visitorsResolve, wrap, tools, img, markers, rest,
// versions, and upsertConversation, conversationChanged, refuseIfDown, announce, error, toast.

import { button, el } from './dom.mjs';
import { newBroadcastId } from './ids.mjs';
import { percentAt } from './markers.mjs';
import { isModerator, keyQuery, owns } from './moderation.mjs';
import { mayResolve, setResolved } from './resolve.mjs';

// Who may move a conversation: its author, moderators and admins (as the server says).
export function mayMove(user, conversation) { return !!conversation && (owns(user, conversation) || isModerator(user)); }

// The conversations waiting for a person, in marker order.
export function needsReview(conversations, index) {
  return conversations.filter((c) => c.carry === 'lost').sort((a, b) => index(a._id) - index(b._id));
}

// A pointer position inside the box, else null (dropped outside the image).
export function dropPoint(box, clientX, clientY) {
  if (clientX < box.left || clientX > box.left + box.width || clientY < box.top || clientY > box.top + box.height) return null;
  return percentAt(box, clientX, clientY);
}

// The new place of a moved conversation: a region keeps its size, inside the image.
export function movedPlace(conversation, pos) {
  const r = conversation.region;
  if (!r) return { x: pos.x, y: pos.y, region: null };
  const x = Math.min(pos.x, Math.round((100 - r.w) * 100) / 100), y = Math.min(pos.y, Math.round((100 - r.h) * 100) / 100);
  return { x, y, region: { shape: 'rect', x, y, w: r.w, h: r.h } };
}

export class Carry {
  constructor(widget) {
    this.widget = widget;
    this.btn = null;
    this.panel = null;
    this.placing = null; // the id being placed by keyboard
    const m = widget.markers;
    m.quickResolve = (d) => !widget.readonly && mayResolve(widget.user, d, widget.visitorsResolve);
    m.onQuickResolve = (id) => setResolved(widget, id, true);
  }

  lost() {
    const m = this.widget.markers;
    return needsReview(m.ids().map((id) => m.data(id)), (id) => m.index(id));
  }

  // After the list or a carry-over: the tool button says how many wait.
  render() {
    const w = this.widget, t = w.t;
    const lost = w.readonly ? [] : this.lost().filter((c) => mayMove(w.user, c));
    if (!lost.length) {
      if (this.btn) { this.btn.remove(); this.btn = null; }
      this.close();
      return;
    }
    if (!this.btn) {
      this.btn = button('ic-tool ic-review-btn', '');
      this.btn.setAttribute('aria-expanded', 'false');
      this.btn.addEventListener('click', () => (this.panel ? this.close() : this.open()));
      w.tools.appendChild(this.btn);
    }
    this.btn.textContent = t('needsReview', { n: lost.length });
    if (this.panel) this.fill(lost);
  }

  open() {
    const w = this.widget;
    this.panel = w.tools.appendChild(el('div', 'ic-review', { role: 'region', 'aria-label': w.t('reviewTitle') }));
    this.btn.setAttribute('aria-expanded', 'true');
    this.render();
    const first = this.panel && this.panel.querySelector('button');
    if (first) first.focus();
  }

  close() {
    if (this.panel) { this.panel.remove(); this.panel = null; }
    if (this.btn) this.btn.setAttribute('aria-expanded', 'false');
  }

  fill(lost) {
    const w = this.widget, t = w.t, p = this.panel;
    p.textContent = '';
    p.appendChild(el('p', 'ic-review-hint')).textContent = t('reviewHint');
    const ul = p.appendChild(el('ul', 'ic-review-list'));
    lost.forEach((c) => {
      const n = w.markers.index(c._id);
      const item = ul.appendChild(el('li'));
      const b = item.appendChild(button('ic-review-item', String(n), t('reviewItem', { n })));
      b.dataset.id = c._id;
      b.addEventListener('pointerdown', (e) => this.drag(e, c._id));
      b.addEventListener('click', () => this.pick(c._id));
    });
  }

  // Drag from the list: a ghost marker follows the pointer; dropped on the image, it moves.
  drag(e, id) {
    if (e.button !== 0) return;
    e.preventDefault();
    const w = this.widget;
    const ghost = w.wrap.appendChild(el('div', 'ic-marker ic-ghost', { 'aria-hidden': 'true' }));
    ghost.textContent = String(w.markers.index(id));
    const follow = (ev) => { ghost.style.left = ev.clientX + 'px'; ghost.style.top = ev.clientY + 'px'; };
    follow(e);
    const end = (ev) => {
      removeEventListener('pointermove', follow);
      removeEventListener('pointerup', end);
      removeEventListener('pointercancel', end);
      ghost.remove();
      if (ev.type === 'pointercancel') return;
      const pos = dropPoint(w.img.getBoundingClientRect(), ev.clientX, ev.clientY);
      if (pos) this.move(id, pos);
    };
    addEventListener('pointermove', follow);
    addEventListener('pointerup', end);
    addEventListener('pointercancel', end);
  }

  // Keyboard: pick it, then the cross-hair's Enter places it (widget.onWrapKey asks placeAt).
  pick(id) {
    const w = this.widget;
    this.placing = id;
    this.close();
    w.wrap.focus();
    w.announce(w.t('reviewPlacing', { n: w.markers.index(id) }));
  }

  // Called by the widget before placing a new conversation: true when this placed one.
  takePlace(pos) {
    const id = this.placing;
    if (!id) return false;
    this.placing = null;
    this.move(id, pos);
    return true;
  }

  // Escape while placing by keyboard: true when there was one to cancel.
  cancelPlace() {
    if (!this.placing) return false;
    this.placing = null;
    this.widget.announce(this.widget.t('reviewCancelled'));
    return true;
  }

  async move(id, pos) {
    const w = this.widget;
    const conversation = w.markers.data(id);
    if (!conversation || w.refuseIfDown()) return;
    const before = { _id: id, x: conversation.x, y: conversation.y, region: conversation.region || null, carry: conversation.carry };
    const place = movedPlace(conversation, pos);
    w.upsertConversation(Object.assign({ _id: id, carry: 'moved' }, place));
    this.render();
    try {
      const body = Object.assign({ broadcastId: newBroadcastId(), version: w.versions.shown || undefined }, keyQuery(w.opts.sso, id), place.region ? { region: place.region } : { x: place.x, y: place.y });
      const res = await w.rest.moveConversation(id, body);
      if (w.markers.has(id)) w.upsertConversation(res.chat);
      w.announce(w.t('reviewPlaced', { n: w.markers.index(id) }));
    } catch (e) {
      if (w.markers.has(id)) w.upsertConversation(before);
      w.toast(w.t('errMove', { reason: e.message }));
    }
    w.conversationChanged(id);
    this.render();
  }

  destroy() { this.close(); }
}
