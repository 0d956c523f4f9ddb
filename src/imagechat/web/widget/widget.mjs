// One image with its conversations: the wrapper around the image, the list read and kept in
// sync over the live socket, the status shown on the image, and destroy(). Drawing markers,
// the chat window, moderation, resolving and the notification bell are in their own
// modules; so are regions (regions.mjs), versions of the image (versions.mjs), carry-over
// (carry.mjs) and the compare view (compare.mjs). `#imagechat=<chatId>` in the page's
// address opens that conversation.

import { Bell } from './bell.mjs';
import { Carry } from './carry.mjs';
import { ConversationWindow } from './chat-window.mjs';
import { CompareView } from './compare.mjs';
import { el, htmlToText } from './dom.mjs';
import { LiveSocket } from './live-socket.mjs';
import { translator } from './locales.mjs';
import { Markers, percentAt } from './markers.mjs';
import { isReadonly, keyQuery, LockSwitch } from './moderation.mjs';
import { newBroadcastId } from './ids.mjs';
import { linkedConversationId, NotificationCenter } from './notifications.mjs';
import { normalizeOptions } from './options.mjs';
import { RegionDraw } from './region-draw.mjs';
import { KEY_STEP, MIN_REGION, outline, placeOutline, resized } from './regions.mjs';
import { ResolvedSwitch } from './resolve.mjs';
import { Rest } from './rest.mjs';
import { Timers } from './timers.mjs';
import { placeApplies, Versions, withoutPlace } from './versions.mjs';

// After a failed list read: wait 3-5 s at first load (spread, so pages do not retry in
// step), 2 s when reloading a widget already shown.
const LOAD_RETRY_MS = 3000;
const LOAD_RETRY_SPREAD_MS = 2000;
const RELOAD_RETRY_MS = 2000;
const TOAST_MS = 6000;
// Screen readers read a live region again only if its text changed since they last looked.
const ANNOUNCE_DELAY_MS = 50;

export class Widget {
  // `env.scriptOrigin`: where the script was loaded from (the default host).
  constructor(target, config, env) {
    const img = target && target.tagName === 'IMG' ? target : target && target.querySelector('img');
    if (!img) throw new Error('ImageChat: the target must be an <img> or contain one.');
    this.opts = normalizeOptions(config, {
      scriptOrigin: env.scriptOrigin, pageOrigin: location.origin, pagePath: location.pathname,
      language: navigator.language, imageSrc: img.getAttribute('src')
    });
    this.img = img;
    this.t = translator(this.opts.locale);
    this.rest = new Rest(this.opts.host, this.opts.tenantId, this.opts.sso, this.t);
    this.timers = new Timers();
    this.lockSwitch = new LockSwitch(this);
    this.readonly = this.opts.readonly;
    this.locked = false;
    this.user = null;
    this.visitorsResolve = false; // the site lets every writer resolve conversations
    this.win = null; // the one open ConversationWindow
    this.cross = { x: 50, y: 50 };
    this.size = { w: 0, h: 0 }; // a region sized by keyboard from the cross-hair (Shift+arrows)
    this.lastCount = null;
    this.socket = null;
    this.channel = null;
    this.bell = null;
    this.loaded = false; // the list was read once
    this.wantConversation = null; // to open once it is
    this.destroyed = false;
    this.build();
    this.load();
  }

  // -- DOM scaffolding: the image gets a relatively positioned wrapper sized by the image.
  build() {
    const img = this.img;
    const wrap = el('div', 'ic-wrap', { tabindex: '0', role: 'group' });
    if (getComputedStyle(img).display === 'block') wrap.classList.add('ic-block');
    img.parentNode.insertBefore(wrap, img);
    wrap.appendChild(img);
    wrap.setAttribute('aria-label', this.t('wrap', { alt: img.alt || '' }));
    wrap.style.setProperty('--ic-size', String(this.opts.chatSquarePercentage));
    this.wrap = wrap;
    this.crossEl = wrap.appendChild(el('div', 'ic-cross', { 'aria-hidden': 'true' }));
    this.banner = wrap.appendChild(el('div', 'ic-banner', { role: 'status', hidden: '' }));
    this.presenceEl = wrap.appendChild(el('div', 'ic-presence', { hidden: '' }));
    this.toastEl = wrap.appendChild(el('div', 'ic-toast ic-error', { role: 'alert', hidden: '' }));
    this.liveRegion = wrap.appendChild(el('div', 'ic-sr', { 'aria-live': 'polite' }));
    this.tools = wrap.appendChild(el('div', 'ic-tools'));
    this.markers = new Markers(wrap, this.banner, this.t, (id) => this.toggle(id));
    this.resolvedSwitch = new ResolvedSwitch(this);
    this.versions = new Versions(this);
    this.carry = new Carry(this);
    this.compare = new CompareView(this);
    this.draftEl = wrap.insertBefore(outline('ic-draft ic-key-draft'), this.crossEl);
    this.draftEl.hidden = true;
    this.regionDraw = new RegionDraw(wrap, img, (r) => this.placeAt({ x: r.x, y: r.y }, r));
    this.moveCross(0, 0);

    wrap.addEventListener('click', (e) => {
      if (e.target === img) this.placeAt(percentAt(img.getBoundingClientRect(), e.clientX, e.clientY));
    });
    wrap.addEventListener('keydown', (e) => this.onWrapKey(e));
    wrap.addEventListener('pointermove', (e) => {
      if (e.target === img && !e.buttons) this.markers.hover(percentAt(img.getBoundingClientRect(), e.clientX, e.clientY));
    });
    wrap.addEventListener('pointerleave', () => this.markers.hover({ x: -1, y: -1 }));
    // Marker positions are percentages (pure CSS); only the open window needs placing again.
    this.resizeObs = new ResizeObserver(() => this.placeWindow());
    this.resizeObs.observe(img);
    this.resizeObs.observe(document.documentElement);
    this.updateDark();
    this.darkObs = new MutationObserver(() => this.updateDark());
    this.darkObs.observe(document.body, { attributes: true, attributeFilter: ['class'] });
    this.onHash = () => { const id = linkedConversationId(location.hash); if (id && this.markers.has(id)) this.showConversation(id); };
    addEventListener('hashchange', this.onHash);
  }

  updateDark() {
    this.wrap.classList.toggle('ic-dark', this.opts.hasDarkBackground || document.body.classList.contains('dark'));
  }

  // -- keyboard placement: arrows move a cross-hair (a region's top-left corner), Shift+arrows
  // size a region from it, Enter places (a region once it has a size, else a point),
  // Escape cancels the region, then the window.
  onWrapKey(e) {
    if (e.target !== this.wrap) return;
    const step = KEY_STEP;
    const moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
    if (moves[e.key]) {
      e.preventDefault();
      if (e.shiftKey) this.sizeRegion(moves[e.key][0], moves[e.key][1]); else this.moveCross(moves[e.key][0], moves[e.key][1]);
    } else if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      const pos = { x: this.cross.x, y: this.cross.y }, r = this.keyRegion();
      this.sizeRegion(-this.size.w, -this.size.h);
      if (!this.carry.takePlace(pos)) this.placeAt(pos, r);
    } else if (e.key === 'Escape') {
      if (this.size.w || this.size.h) this.sizeRegion(-this.size.w, -this.size.h); else if (!this.carry.cancelPlace()) this.closeWindow();
    }
  }

  moveCross(dx, dy) {
    const c = this.cross;
    c.x = Math.min(100, Math.max(0, c.x + dx)); c.y = Math.min(100, Math.max(0, c.y + dy));
    this.crossEl.style.left = c.x + '%'; this.crossEl.style.top = c.y + '%';
    this.sizeRegion(0, 0);
  }

  sizeRegion(dw, dh) {
    this.size = resized(this.cross, this.size, dw, dh);
    const r = this.keyRegion();
    this.draftEl.hidden = !r;
    if (r) placeOutline(this.draftEl, r);
    if (r && (dw || dh)) this.announce(this.t('regionSize', { w: Math.round(r.w), h: Math.round(r.h) }));
  }

  keyRegion() {
    const s = this.size, c = this.cross;
    return s.w >= MIN_REGION && s.h >= MIN_REGION ? { shape: 'rect', x: c.x, y: c.y, w: s.w, h: s.h } : null;
  }

  // -- the list, then live events from its position on
  async load() {
    let list;
    try { list = await this.rest.listConversations(this.opts.urlId, this.versions.wanted); } catch (e) {
      this.toast(this.t('errLoad', { reason: e.message }));
      this.timers.after(LOAD_RETRY_MS + Math.random() * LOAD_RETRY_SPREAD_MS, () => this.load());
      return;
    }
    this.socket = LiveSocket.shared(this.opts.host, list.tenantIdWS || this.opts.tenantId, this.opts.sso);
    this.channel = this.socket.join(list.urlIdWS, { seq: list.seq, epoch: list.epoch, userId: list.userIdWS }, this);
    this.takeList(list);
    this.connectionChanged();
    if (this.opts.notifications) {
      const o = this.opts;
      this.bell = new Bell(this, NotificationCenter.of(this.socket, () => new Rest(o.host, o.tenantId, o.sso, this.t)));
    }
    this.loaded = true;
    // A conversation asked for before the list was in (a notification), or linked to.
    const wanted = this.wantConversation || linkedConversationId(location.hash);
    if (wanted && (this.wantConversation || this.markers.has(wanted))) this.showConversation(wanted);
    this.wantConversation = null;
    this.versions.report();
  }

  takeList(list) {
    this.user = list.user || null;
    this.visitorsResolve = !!list.visitorsResolve;
    this.setLocked(!!list.locked, false);
    const seen = new Set();
    (list.conversations || []).forEach((c) => { seen.add(c._id); this.upsertConversation(c, true); });
    this.markers.renderAll();
    this.markers.ids().forEach((id) => { if (!seen.has(id)) this.removeConversation(id); });
    this.resolvedSwitch.render();
    this.versions.took(list);
    this.versions.render();
    this.carryChanged();
  }

  // What carry-over shows changed: the "needs review" list, the compare button.
  carryChanged() {
    this.carry.render();
    this.compare.render();
  }

  // Full reload after `resync-required` (or when the socket says we lag): the list is the truth.
  async reload() {
    const ch = this.channel;
    if (!ch.startReload()) return;
    let list;
    const version = this.versions.wanted;
    try {
      list = await this.rest.listConversations(this.opts.urlId, version);
      this.takeList(list);
      if (this.win && this.win.chatId) this.win.load();
    } catch (e) {
      ch.endReload(null);
      this.timers.after(RELOAD_RETRY_MS, () => this.reload());
      return;
    }
    ch.endReload(list);
    this.setLive(true);
    // The visitor picked another version while this one was read.
    if (this.versions.wanted !== version) this.reload();
  }

  // Read the list again for the version now wanted (versions.mjs).
  async reloadList() {
    if (this.channel) await this.reload();
  }

  // -- what the live socket tells each image (see live-socket.mjs)
  connectionChanged() {
    if (!this.socket) return;
    const state = this.socket.state;
    const text = !navigator.onLine ? this.t('offline')
      : state === 'refused' ? this.t('unavailable', { reason: this.socket.refusal })
        : state === 'down' ? this.t('reconnecting') : '';
    this.banner.textContent = text;
    this.banner.hidden = !text;
    this.wrap.classList.toggle('ic-offline', !!text);
    if (state !== 'open') this.setLive(false);
  }

  live() { this.setLive(true); }

  stale() { this.reload(); }

  presence(count) {
    const n = Number(count) || 0;
    this.presenceEl.textContent = this.t('viewing', { n });
    this.presenceEl.hidden = n < 1;
  }

  // Live events from others (our own echoes never get here).
  event(ev) {
    switch (ev.type) {
      case 'new-image-chat':
      case 'image-chat-updated':
        // Events leave the creation time out of a marker: for one we have not seen yet,
        // it is this event's timestamp.
        if (ev.chat) {
          const before = this.markers.data(ev.chat._id);
          // Its place is the version's it is on (docs/protocol.md): another version's is not ours.
          const fits = placeApplies(ev.chat, this.versions.shown, this.versions.latest);
          if (!before && !fits) break;
          this.upsertConversation(Object.assign(before ? {} : { createdAt: ev.timestamp }, fits ? ev.chat : withoutPlace(ev.chat)));
          this.conversationChanged(ev.chat._id);
          if ((fits && ev.chat.carry !== undefined) || (before && before.carry === 'lost')) this.carryChanged();
          if (before && ev.chat.resolved !== undefined && !!before.resolved !== !!ev.chat.resolved) {
            const n = this.markers.index(ev.chat._id);
            this.announce(this.t(ev.chat.resolved ? 'announceResolved' : 'announceReopened', { n, name: ev.chat.resolvedBy || this.t('someone') }));
          }
        }
        break;
      case 'deleted-image-chat':
        if (ev.chat && this.markers.has(ev.chat._id)) { this.removeConversation(ev.chat._id); this.announce(this.t('removed')); }
        break;
      case 'new-comment':
      case 'updated-comment':
      case 'deleted-comment':
        this.applyComment(ev.type, ev.comment);
        break;
      case 'image-version':
        this.versions.onEvent(ev);
        break;
      case 'image-locked':
        this.setLocked(!!ev.locked, true);
        break;
      default: // votes and unknown events: nothing to show
    }
  }

  applyComment(type, c) {
    if (!c) return;
    const w = this.win;
    const conversation = w && this.markers.data(w.chatId);
    const inOpen = conversation && (c.chatId === w.chatId || c.urlId === conversation.windowUrlId);
    if (type === 'deleted-comment') {
      if (inOpen) { w.removeComment(c._id); w.updateStatus(); }
      return;
    }
    if (inOpen) { w.addComment(c); w.updateStatus(); }
    if (type === 'new-comment') this.announce(this.t('announce', { name: c.commenterName || '', text: htmlToText(c.commentHTML) }));
  }

  // -- status on the image: `data-live` (tests and styles rely on it), banner, toasts
  setLive(on) {
    if (on && this.socket && this.socket.state === 'open') this.wrap.setAttribute('data-live', '');
    else this.wrap.removeAttribute('data-live');
  }

  announce(text) {
    this.liveRegion.textContent = '';
    this.timers.after(ANNOUNCE_DELAY_MS, () => { this.liveRegion.textContent = text; });
  }

  toast(text) {
    this.toastEl.textContent = text;
    this.toastEl.hidden = false;
    this.timers.cancel(this.toastTimer);
    this.toastTimer = this.timers.after(TOAST_MS, () => { this.toastEl.hidden = true; });
  }

  // Errors go next to the composer when a window is open, else to a toast on the image.
  error(text) {
    if (this.win) { this.win.errorBox.textContent = text; this.win.errorBox.hidden = false; } else this.toast(text);
  }

  refuseIfDown() {
    if (!this.socket || !this.socket.down) return false;
    this.error(this.t('refused'));
    return true;
  }

  setLocked(locked, announce) {
    const changed = this.locked !== locked;
    this.locked = locked;
    const readonly = isReadonly(this.opts.readonly, locked, this.user);
    const flip = readonly !== this.readonly;
    this.readonly = readonly;
    this.lockSwitch.render();
    if (announce && changed) this.announce(this.t(locked ? 'locked' : 'unlocked'));
    if (!flip) return;
    // Rebuild the open window: its composer and actions depend on read-only.
    if (this.win && this.win.chatId) this.openWindow(this.win.chatId); else if (readonly) this.closeWindow(true);
  }

  // -- conversations
  upsertConversation(data, later) {
    // Events name a conversation's thread once, as `urlId` (REST answers also as windowUrlId).
    if (data.windowUrlId === undefined && data.urlId !== undefined) data = Object.assign({}, data, { windowUrlId: data.urlId });
    if (this.channel) this.channel.track(data);
    const merged = this.markers.upsert(data, later);
    this.reportCount();
    if (!later) this.resolvedSwitch.render();
    return merged;
  }

  removeConversation(id) {
    if (!this.markers.has(id)) return;
    // Forget it first, so that closing its window sends focus to the image, not the marker.
    this.markers.remove(id);
    if (this.win && this.win.chatId === id) this.closeWindow(true);
    this.reportCount();
    this.resolvedSwitch.render();
  }

  // A conversation's data changed: its open window follows.
  conversationChanged(id) {
    if (this.win && this.win.chatId === id) { this.win.conversationChanged(); this.placeWindow(); }
  }

  // Bring a conversation into view and open it (a notification, a `#imagechat=` link). A
  // resolved one is shown even if the switch hid them.
  showConversation(chatId) {
    if (!this.loaded) { this.wantConversation = chatId; return; }
    this.wrap.scrollIntoView({ block: 'nearest' });
    if (!chatId) return;
    const data = this.markers.data(chatId);
    if (!data) { this.toast(this.t('chatGone')); return; }
    if (data.resolved && !this.resolvedSwitch.on) this.resolvedSwitch.set(true);
    if (this.win && this.win.chatId === chatId) this.win.focusComposer(); else this.openWindow(chatId);
  }

  bumpCount(chatId, delta) {
    const data = this.markers.data(chatId);
    if (!data) return;
    this.upsertConversation({ _id: chatId, commentCount: Math.max(0, (data.commentCount || 0) + delta) });
  }

  reportCount() {
    const total = this.markers.total();
    if (total === this.lastCount) return;
    this.lastCount = total;
    const report = this.opts.commentCountUpdated;
    if (report) {
      try { report(total); } catch (e) { console.error(e); }
    }
  }

  async deleteConversation(chatId) {
    if (this.refuseIfDown()) return;
    const data = this.markers.data(chatId);
    if (!data) return;
    this.closeWindow(true);
    this.removeConversation(chatId);
    this.wrap.focus();
    try {
      await this.rest.deleteConversation(chatId, Object.assign({ broadcastId: newBroadcastId() }, keyQuery(this.opts.sso, chatId)));
    } catch (e) {
      this.upsertConversation(data);
      this.toast(this.t('errDel', { reason: e.message }));
    }
  }

  // -- placing a new conversation (it only exists on the server once its first message is sent)
  // `region`: a rectangle drawn or sized, `pos` its corner.
  placeAt(pos, region) {
    if (this.readonly) { this.toast(this.t('readonly')); return; }
    if (this.refuseIfDown()) return;
    if (this.carry.takePlace(pos)) return;
    // New conversations are made on the latest version (the server refuses others).
    if (!this.versions.onLatest) { this.toast(this.t('oldVersion')); return; }
    this.markers.placePending(pos, this.t(region ? 'pendingRegion' : 'pending'), () => this.openWindow(null), region);
    if (!this.win || this.win.chatId) this.openWindow(null); else { this.placeWindow(); this.win.focusComposer(); }
  }

  // -- the chat window
  toggle(id) {
    if (this.win && this.win.chatId === id) this.closeWindow(); else this.openWindow(id);
  }

  openWindow(chatId) {
    this.closeWindow(true, !chatId);
    const win = new ConversationWindow(this, chatId);
    this.win = win;
    this.wrap.appendChild(win.root);
    this.markers.setOpen(chatId);
    win.place();
    if (win.conversation) win.load();
    win.focusComposer();
  }

  // `silent`: closed because of something else (another window opens, the conversation
  // vanished); focus then stays where it is. `keepPending`: the new marker stays.
  closeWindow(silent, keepPending) {
    const w = this.win;
    if (!w && !keepPending) this.markers.dropPending();
    if (!w) return;
    const hadFocus = w.root.contains(document.activeElement);
    w.root.remove();
    this.win = null;
    if (!w.chatId && !keepPending) this.markers.dropPending();
    this.markers.setOpen(null);
    if (!silent || hadFocus) {
      const marker = w.chatId && this.markers.element(w.chatId);
      if (marker) marker.focus({ preventScroll: true });
      // A marker the switch hides cannot take the focus: the image does.
      if (document.activeElement !== marker) this.wrap.focus({ preventScroll: true });
    }
  }

  placeWindow() {
    if (this.win) this.win.place();
  }

  // For single-page apps: take away everything the widget added (its DOM, observers,
  // timers, REST calls in flight and its share of the live connection) and put the image
  // back where it was. The page may call ImageChat on it again afterwards.
  destroy() {
    if (this.destroyed) return;
    this.destroyed = true;
    this.rest.abort();
    this.timers.cancelAll();
    this.resizeObs.disconnect();
    this.darkObs.disconnect();
    this.regionDraw.destroy();
    this.versions.destroy();
    this.carry.destroy();
    this.compare.destroy();
    removeEventListener('hashchange', this.onHash);
    if (this.bell) this.bell.destroy();
    this.bell = null;
    if (this.channel) this.channel.leave();
    this.channel = null;
    this.socket = null;
    this.win = null;
    const wrap = this.wrap;
    if (wrap.parentNode) wrap.parentNode.insertBefore(this.img, wrap);
    wrap.remove();
  }
}
