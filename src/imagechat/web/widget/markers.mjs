// Marker layout: one button per conversation, placed on the image in percentages so that it
// keeps its spot in pure CSS when the image is resized, and where the chat window goes
// next to a marker.

import { button } from './dom.mjs';
import { contains, outline, placeOutline } from './regions.mjs';

export const ARROW_PX = 16; // between marker and window, filled by the arrow
export const WINDOW_WIDTH_PX = 300;
export const FULLSCREEN_BELOW_PX = 768; // narrower viewports get the window fullscreen
export const MIN_MARKER_PX = 24; // as in the CSS: a marker stays big enough to tap

// What a marker's label adds for how it came onto the version shown (versions.mjs).
const CARRY_LABEL = { changed: 'carryChanged', lost: 'carryLost', moved: 'carryMoved' };

// A point of the image, in % of its box (two decimals), from a pointer position.
export function percentAt(box, clientX, clientY) {
  const clamp = (v) => Math.round(Math.min(100, Math.max(0, v)) * 100) / 100;
  return { x: clamp((clientX - box.left) / box.width * 100), y: clamp((clientY - box.top) / box.height * 100) };
}

// Where the window goes next to the point `pos` (in %) of the image `box`: right, left,
// below, above, whichever it fits first, else the side with the most room.
export function windowPlacement(box, viewport, pos, markerPercent, windowHeight) {
  const size = Math.max(MIN_MARKER_PX, box.width * markerPercent / 100);
  const cx = box.width * pos.x / 100, cy = box.height * pos.y / 100;
  const half = size / 2, h = windowHeight;
  const space = {
    right: viewport.width - (box.left + cx + half), left: box.left + cx - half,
    bottom: viewport.height - (box.top + cy + half), top: box.top + cy - half
  };
  const side = space.right >= WINDOW_WIDTH_PX + ARROW_PX + 8 ? 'right' : space.left >= WINDOW_WIDTH_PX + ARROW_PX + 8 ? 'left'
    : space.bottom >= h + ARROW_PX ? 'bottom' : space.top >= h + ARROW_PX ? 'top'
      : space.bottom >= space.top ? 'bottom' : 'top';
  const left = side === 'right' ? cx + half + ARROW_PX : side === 'left' ? cx - half - ARROW_PX - WINDOW_WIDTH_PX : cx - WINDOW_WIDTH_PX / 2;
  const top = side === 'bottom' ? cy + half + ARROW_PX : side === 'top' ? cy - half - ARROW_PX - h : cy - 28;
  return { side, left: Math.round(left), top: Math.round(top) };
}

// The markers of one image. Each marker's text and label are written only when they
// change: with hundreds of markers and live events every few milliseconds, rewriting all
// of them on every event was most of the widget's cost. A resolved conversation's marker
// has the class `ic-resolved` (drawn dimmed, with a check) and says so in its label. A
// region's conversation also has an outline (regions.mjs), lit with its marker on hover and
// focus; a carried one has `ic-carry-changed` or `ic-carry-lost`, and a changed one that is
// open gets a one-click "mark resolved" button next to its marker when `quickResolve(data)`
// says the visitor may.
export class Markers {
  // `layer`: where markers go (before `before`); `onToggle(id)`: a marker was clicked.
  constructor(layer, before, t, onToggle) {
    this.layer = layer; this.before = before; this.t = t; this.onToggle = onToggle;
    this.quickResolve = null; // (data) => whether to offer the button; set by the widget
    this.onQuickResolve = null; // (id) => resolve it
    this.pendingOutline = null;
    this.pendingRegion = null;
    this.hovered = null; // the conversation whose region the pointer is over
    this.conversations = new Map(); // id -> {data, marker, shown}
    this.order = null; // id -> number (1, 2, ...) by creation time; null: to be worked out
    this.openId = null;
    this.pending = null; // the marker of a new conversation, until its first message is sent
    this.pendingPos = null;
    this.resolvedCount = 0;
  }

  get size() { return this.conversations.size; }

  has(id) { return this.conversations.has(id); }

  data(id) { const c = this.conversations.get(id); return c ? c.data : null; }

  element(id) { const c = this.conversations.get(id); return c ? c.marker : null; }

  ids() { return Array.from(this.conversations.keys()); }

  // Merge what is known of a conversation; returns its data. `later`: the caller renders
  // every marker once when it is done (a whole list at once).
  upsert(data, later) {
    let conversation = this.conversations.get(data._id);
    if (!conversation) {
      const id = data._id;
      conversation = { data: {}, marker: button('ic-marker', ''), shown: {}, outline: null, badge: null };
      conversation.marker.dataset.id = id;
      conversation.marker.addEventListener('click', () => this.onToggle(id));
      const hot = (on) => () => this.light(conversation, on);
      ['mouseenter', 'focus'].forEach((type) => conversation.marker.addEventListener(type, hot(true)));
      ['mouseleave', 'blur'].forEach((type) => conversation.marker.addEventListener(type, hot(false)));
      this.conversations.set(id, conversation);
      this.layer.insertBefore(conversation.marker, this.before);
      this.order = null;
    } else if (data.createdAt !== undefined && data.createdAt !== conversation.data.createdAt) this.order = null;
    const wasResolved = !!conversation.data.resolved;
    conversation.data = Object.assign({}, conversation.data, data);
    this.resolvedCount += (conversation.data.resolved ? 1 : 0) - (wasResolved ? 1 : 0);
    if (later) return conversation.data;
    if (this.order) this.render(conversation); else this.renderAll();
    return conversation.data;
  }

  remove(id) {
    const conversation = this.conversations.get(id);
    if (!conversation) return;
    this.conversations.delete(id);
    if (conversation.data.resolved) this.resolvedCount--;
    conversation.marker.remove();
    if (conversation.outline) conversation.outline.remove();
    if (conversation.badge) conversation.badge.remove();
    if (this.openId === id) this.openId = null;
    this.order = null;
    this.renderAll();
  }

  // Marker numbers follow creation time, as people read them ("conversation 3").
  index(id) {
    if (!this.order) {
      const sorted = Array.from(this.conversations.values()).sort((a, b) => (a.data.createdAt || 0) - (b.data.createdAt || 0));
      this.order = new Map(sorted.map((c, n) => [c.data._id, n + 1]));
    }
    return this.order.get(id) || 0;
  }

  // The marker whose window is open, if any (aria-expanded).
  setOpen(id) {
    const before = this.openId;
    this.openId = id || null;
    [before, this.openId].forEach((one) => { const c = one && this.conversations.get(one); if (c) this.render(c); });
  }

  renderAll() { this.conversations.forEach((conversation) => this.render(conversation)); }

  // A region is highlighted with its marker (hover, focus, or an open window).
  light(conversation, on) {
    conversation.marker.classList.toggle('ic-hot', on);
    if (conversation.outline) conversation.outline.classList.toggle('ic-hot', on || this.openId === conversation.data._id);
  }

  // The pointer over the image (in %): the smallest region under it is lit with its marker.
  // Only regions are looked at, and only while the pointer moves over the image.
  hover(pos) {
    let best = null;
    this.conversations.forEach((c) => {
      const r = c.outline && c.data.region;
      if (r && contains(r, pos) && (!best || r.w * r.h < best.data.region.w * best.data.region.h)) best = c;
    });
    if (best === this.hovered) return;
    if (this.hovered && this.conversations.has(this.hovered.data._id)) this.light(this.hovered, false);
    this.hovered = best;
    if (best) this.light(best, true);
  }

  // The regions' outlines, created when a conversation first has one.
  drawRegion(conversation, r) {
    if (!r) { if (conversation.outline) { conversation.outline.remove(); conversation.outline = null; } return; }
    if (!conversation.outline) conversation.outline = this.layer.insertBefore(outline(), conversation.marker);
    placeOutline(conversation.outline, r);
  }

  drawBadge(conversation, wanted) {
    if (!wanted) { if (conversation.badge) { conversation.badge.remove(); conversation.badge = null; } return; }
    if (!conversation.badge) {
      const id = conversation.data._id;
      conversation.badge = button('ic-quick-resolve', '\u2713', '');
      conversation.badge.dataset.id = id;
      conversation.badge.addEventListener('click', () => { if (this.onQuickResolve) this.onQuickResolve(id); });
      this.layer.insertBefore(conversation.badge, conversation.marker.nextSibling);
    }
    conversation.badge.style.left = conversation.data.x + '%'; conversation.badge.style.top = conversation.data.y + '%';
    conversation.badge.setAttribute('aria-label', this.t('markResolved', { n: this.index(conversation.data._id) }));
  }

  render(conversation) {
    const d = conversation.data, s = conversation.shown, m = conversation.marker;
    const count = d.commentCount || 0;
    const resolved = !!d.resolved;
    const carry = CARRY_LABEL[d.carry] ? d.carry : '';
    const r = d.region;
    const want = {
      left: d.x + '%', top: d.y + '%', text: String(count), resolved, carry,
      label: this.t(resolved ? 'markerResolved' : 'marker', { n: this.index(d._id), c: count }) + (carry ? ', ' + this.t(CARRY_LABEL[carry]) : '') + (r ? ', ' + this.t('regionLabel') : ''),
      expanded: String(this.openId === d._id),
      region: r ? r.x + ' ' + r.y + ' ' + r.w + ' ' + r.h : '',
      badge: carry === 'changed' && !resolved && !!this.quickResolve && this.quickResolve(d) ? d.x + ' ' + d.y : ''
    };
    if (s.left !== want.left) m.style.left = want.left;
    if (s.top !== want.top) m.style.top = want.top;
    if (s.text !== want.text) m.textContent = want.text;
    if (s.label !== want.label) m.setAttribute('aria-label', want.label);
    if (s.expanded !== want.expanded) m.setAttribute('aria-expanded', want.expanded);
    if (s.resolved !== want.resolved) { m.classList.toggle('ic-resolved', resolved); if (conversation.outline) conversation.outline.classList.toggle('ic-resolved', resolved); }
    if (s.carry !== want.carry) {
      m.classList.toggle('ic-carry-changed', carry === 'changed');
      m.classList.toggle('ic-carry-lost', carry === 'lost');
    }
    if (s.region !== want.region) { this.drawRegion(conversation, r); if (conversation.outline) conversation.outline.classList.toggle('ic-resolved', resolved); }
    if (s.expanded !== want.expanded && conversation.outline) conversation.outline.classList.toggle('ic-hot', this.openId === d._id);
    if (s.badge !== want.badge || s.label !== want.label) this.drawBadge(conversation, want.badge);
    conversation.shown = want;
  }

  // `region`: the new conversation is a region's, with `pos` its corner.
  placePending(pos, label, onClick, region) {
    if (!this.pending) {
      this.pending = button('ic-marker ic-pending', '+', label);
      this.pending.addEventListener('click', onClick);
      this.layer.insertBefore(this.pending, this.before);
    }
    this.pending.style.left = pos.x + '%'; this.pending.style.top = pos.y + '%';
    this.pendingPos = pos;
    this.pendingRegion = region || null;
    if (region) {
      if (!this.pendingOutline) this.pendingOutline = this.layer.insertBefore(outline('ic-pending ic-hot'), this.pending);
      placeOutline(this.pendingOutline, region);
    } else if (this.pendingOutline) { this.pendingOutline.remove(); this.pendingOutline = null; }
  }

  dropPending() {
    if (this.pending) { this.pending.remove(); this.pending = null; }
    if (this.pendingOutline) { this.pendingOutline.remove(); this.pendingOutline = null; }
    this.pendingRegion = null;
  }

  total() {
    let total = 0;
    this.conversations.forEach((c) => { total += c.data.commentCount || 0; });
    return total;
  }
}
