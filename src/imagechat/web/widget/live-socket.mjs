// The widget's side of a live connection (docs/protocol.md): one WebSocket per page for
// each server, tenant and SSO identity, shared by every image of the page. Each image is a
// channel; this file keeps each channel's position (seq, epoch), notices gaps and asks for
// them, resumes after a reconnect, and hands the events in order to the image's listener:
//
//   listener.connectionChanged()  the socket's state changed (read socket.state)
//   listener.presence(count)      viewers of the image now
//   listener.live()               resumed: nothing was missed
//   listener.stale()              something was missed that resume cannot bring: reload
//   listener.event(ev)            a logged event, in seq order, never one of our own writes
//
// Events for the viewer rather than an image (`notification`, `notification-update`) go to
// the socket's watchers instead (socket.watch), with connectionChanged() as above.
//
// Nothing here touches the DOM: tests/widget/ runs it under Node against a fake server.

import { CLOSE } from './close-codes.mjs';
import { anonUserId, isOwnBroadcast } from './ids.mjs';
import { Timers } from './timers.mjs';

// Reconnect back-off: 0.5 s doubling up to 10 s, each wait jittered to between half and all
// of it, so that a restarted server is not hit by every page at once.
export const MIN_BACKOFF_MS = 500;
export const MAX_BACKOFF_MS = 10000;
// The attempt from which the wait is the longest; a rate-limited client (4429) waits that.
const LONGEST_ATTEMPT = 5;

// After these the server refused us for good (sign-in, origin, tenant, too many images):
// reconnecting cannot help, so the widget says why instead of retrying forever.
export const REFUSED = new Set([
  CLOSE.UNAUTHENTICATED, CLOSE.ORIGIN_NOT_ALLOWED, CLOSE.TENANT_NOT_FOUND, CLOSE.TOO_MANY_CHANNELS
]);

// What a socket needs from the page; tests pass their own.
export function browserEnv() {
  return {
    WebSocket: globalThis.WebSocket,
    isOnline: () => navigator.onLine,
    events: globalThis, // 'online' and 'offline' are fired at the window
    clock: globalThis,
    random: Math.random,
    // An anonymous viewer names itself on the handshake, so that its notifications come here.
    anonUserId
  };
}

// One image watched over the socket, and where its state stands.
class Channel {
  constructor(socket, urlId, position, listener) {
    this.socket = socket;
    this.urlId = urlId;
    this.seq = position.seq || 0;
    this.epoch = position.epoch || '';
    this.listener = listener;
    this.resyncing = false; // a gap was asked for; its answer is on the way
    this.reloading = false; // the widget reads the list; events meanwhile are in it
  }

  // The widget reads the list again: live events are dropped meanwhile, since the list it
  // gets holds them. Returns false when a reload is already running.
  startReload() {
    if (this.reloading) return false;
    this.reloading = true;
    return true;
  }

  // With the list's position, or with null when the read failed (events count again).
  endReload(position) {
    if (position) { this.seq = position.seq || 0; this.epoch = position.epoch || ''; }
    this.reloading = false;
  }

  // A conversation of this image: events that name only its thread find the image.
  track(conversation) { this.socket.track(conversation, this); }

  leave() { this.socket.leave(this); }
}

const SHARED = new Map();

// Events for one viewer, on whatever images it watches: no channel, no seq.
const VIEWER_EVENTS = new Set(['notification', 'notification-update']);

export class LiveSocket {
  // The page's socket for this server, tenant and identity: made once, shared, and
  // forgotten when its last channel leaves.
  static shared(host, tenantId, sso, env = browserEnv()) {
    const key = host + '|' + tenantId + '|' + (sso || '');
    let socket = SHARED.get(key);
    if (!socket) {
      socket = new LiveSocket(host, tenantId, sso, env);
      socket.release = () => { if (SHARED.get(key) === socket) SHARED.delete(key); };
      SHARED.set(key, socket);
    }
    return socket;
  }

  constructor(host, tenantId, sso, env = browserEnv()) {
    this.host = host; this.tenantId = tenantId; this.sso = sso; this.env = env;
    this.channels = new Map(); // urlId (urlIdWS) -> Channel
    this.threads = new Map(); // conversation id or windowUrlId -> urlId of its image
    this.watchers = new Set(); // {connectionChanged(), notice(ev)}: the viewer's notifications
    this.ws = null; this.state = 'idle'; this.refusal = ''; this.attempt = 0; this.userId = '';
    this.timers = new Timers(env.clock);
    this.retry = null;
    this.release = () => {};
    this.onOffline = () => this.goOffline();
    this.onOnline = () => { this.attempt = 0; this.connect(); };
    env.events.addEventListener('offline', this.onOffline);
    env.events.addEventListener('online', this.onOnline);
  }

  // Writes are refused at once when the page is offline or the socket is lost.
  get down() { return !this.env.isOnline() || this.state === 'down'; }

  // Watch an image from `position` ({seq, epoch} of the list read) on.
  join(urlId, position, listener) {
    const ch = new Channel(this, urlId, position, listener);
    this.channels.set(urlId, ch);
    if (!this.userId) this.userId = position.userId || '';
    if (this.ws && this.state === 'open') this.sendJoin(ch);
    else if (!this.ws) this.connect();
    return ch;
  }

  // Hear the viewer's own events (not an image's) and the socket's state; returns the undo.
  watch(watcher) {
    this.watchers.add(watcher);
    return () => { this.watchers.delete(watcher); };
  }

  // Stop watching an image; the last one to leave closes the socket.
  leave(ch) {
    if (this.channels.get(ch.urlId) !== ch) return;
    this.channels.delete(ch.urlId);
    if (this.channels.size) this.send({ op: 'leave', urlId: ch.urlId });
    else this.close();
  }

  close() {
    this.timers.cancelAll();
    this.env.events.removeEventListener('offline', this.onOffline);
    this.env.events.removeEventListener('online', this.onOnline);
    const ws = this.ws;
    this.ws = null;
    if (ws) ws.close(CLOSE.NORMAL);
    this.state = 'closed';
    this.release();
  }

  track(conversation, ch) {
    // Never pruned (the socket goes when its last image leaves): late events of a deleted
    // conversation still count towards their image's seq, and those of an image that was
    // left are not taken for another image's.
    this.threads.set(conversation._id, ch.urlId);
    if (conversation.windowUrlId) this.threads.set(conversation.windowUrlId, ch.urlId);
  }

  sendJoin(ch) {
    this.send(Object.assign({ op: 'join', urlId: ch.urlId, since: ch.seq }, ch.epoch ? { epoch: ch.epoch } : {}));
  }

  send(msg) { if (this.ws && this.ws.readyState === 1) this.ws.send(JSON.stringify(msg)); }

  setState(state) {
    this.state = state;
    this.channels.forEach((ch) => ch.listener.connectionChanged());
    this.watchers.forEach((w) => w.connectionChanged());
  }

  connect() {
    this.timers.cancel(this.retry);
    if (this.ws || !this.channels.size) return;
    if (!this.env.isOnline()) { this.setState('down'); return; }
    // The first image goes in the address (resumed from its seq); the others join once open.
    const first = this.channels.values().next().value;
    const q = new URLSearchParams({ urlId: first.urlId, tenantIdWS: this.tenantId, userIdWS: this.userId, batch: '1', since: String(first.seq) });
    if (first.epoch) q.set('epoch', first.epoch);
    if (this.sso) q.set('sso', this.sso);
    else if (this.env.anonUserId) q.set('anonUserId', this.env.anonUserId());
    const ws = new this.env.WebSocket(this.host.replace(/^http/, 'ws') + '/sub?' + q);
    this.ws = ws;
    if (this.state === 'idle') this.setState('connecting');
    ws.onopen = () => {
      if (this.ws !== ws) return;
      this.attempt = 0;
      this.channels.forEach((ch) => { if (ch !== first) this.sendJoin(ch); });
      this.setState('open');
    };
    ws.onmessage = (e) => {
      if (this.ws !== ws) return;
      let data;
      try { data = JSON.parse(e.data); } catch (err) { return; }
      (Array.isArray(data) ? data : [data]).forEach((ev) => this.dispatch(ev));
    };
    ws.onclose = (e) => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (REFUSED.has(e.code)) {
        this.refusal = e.reason || String(e.code);
        this.setState('refused');
        return;
      }
      // Rate limited: the socket had opened, which reset the back-off; wait the longest.
      if (e.code === CLOSE.RATE_LIMITED) this.attempt = Math.max(this.attempt, LONGEST_ATTEMPT);
      this.setState('down');
      this.retryLater();
    };
  }

  retryLater() {
    if (!this.env.isOnline()) return; // the 'online' event reconnects
    const base = Math.min(MAX_BACKOFF_MS, MIN_BACKOFF_MS * Math.pow(2, this.attempt++));
    this.retry = this.timers.after(base * (0.5 + this.env.random() / 2), () => this.connect());
  }

  goOffline() {
    this.timers.cancel(this.retry);
    const ws = this.ws;
    this.ws = null;
    if (ws) ws.close();
    this.setState('down');
  }

  // The image an event is for. Every logged event names its image in `urlId` (comments,
  // votes and presence already do); an event that does not is placed by the conversation
  // or thread it concerns, which this page has seen.
  channelOf(ev) {
    const named = ev.urlId;
    if (named != null && this.channels.has(named)) return this.channels.get(named);
    const obj = ev.chat || ev.comment || ev.vote;
    if (obj) {
      const thread = obj.urlId; // a conversation's and a comment's: the thread
      const urlId = this.threads.get(thread) || this.threads.get(obj.chatId || obj._id);
      if (urlId !== undefined) return this.channels.get(urlId) || null;
    }
    // An event that names no image: with one image on the page there is no doubt.
    if (named == null && this.channels.size === 1) return this.channels.values().next().value;
    return null;
  }

  dispatch(ev) {
    if (!ev || typeof ev !== 'object') return;
    if (VIEWER_EVENTS.has(ev.type)) { this.watchers.forEach((w) => w.notice(ev)); return; }
    const ch = this.channelOf(ev);
    if (!ch) return;
    if (ev.type === 'p-u') { ch.listener.presence(ev.sc); return; }
    if (ev.type === 'resumed') {
      ch.resyncing = false;
      if (ev.epoch) ch.epoch = ev.epoch;
      // The server is ahead of what we applied: something was dropped, read the state again.
      if (ev.seq > ch.seq) ch.listener.stale(); else ch.listener.live();
      return;
    }
    if (ev.type === 'resync-required') { ch.resyncing = false; ch.listener.stale(); return; }
    if (typeof ev.seq === 'number') {
      if (ch.reloading || ev.seq <= ch.seq) return; // already in the state we hold
      if (ev.seq > ch.seq + 1) { // a gap: ask for it once, the answer replays in order
        if (!ch.resyncing) { ch.resyncing = true; this.send({ op: 'resync', urlId: ch.urlId, since: ch.seq }); }
        return;
      }
      ch.seq = ev.seq;
    }
    if (ev.broadcastId && isOwnBroadcast(ev.broadcastId)) return;
    ch.listener.event(ev);
  }
}
