// The viewer's notifications, one center per live socket (so per page, server, tenant and
// identity), shared by the bells of every image on the page: the unread count (live:
// `notification` raises it, `notification-update` sets it, each (re)connection reads it
// again), the list once asked for, marking read, and where a notification opens. Nothing
// here touches the DOM: bell.mjs draws it, tests/widget/notifications.test.mjs runs it.
//
// A bell gives: target() -> {urlId (its image's channel), has(chatId)}, changed(), and
// noticed(notification) (the first bell announces new ones from elsewhere).

// `#imagechat=<chatId>` in a page's address opens that conversation (notifications link so,
// and so do the e-mails).
export const LINK_PREFIX = '#imagechat=';
const LIST_SIZE = 20;

export function linkedConversationId(hash) {
  if (!hash || hash.indexOf(LINK_PREFIX) !== 0) return null;
  try { return decodeURIComponent(hash.slice(LINK_PREFIX.length)) || null; } catch (e) { return null; }
}

// A page's address opening one of its conversations (a fragment it had is replaced).
export function conversationLink(url, chatId) {
  const page = String(url).split('#')[0];
  return chatId ? page + LINK_PREFIX + encodeURIComponent(chatId) : page;
}

// The address a comment is written on, as notifications will link back to it: without the
// deep link it may have been opened with.
export function pageUrl(href) {
  const at = href.indexOf(LINK_PREFIX);
  return at < 0 ? href : href.slice(0, at);
}

// Where a notification opens: {target, chatId} for an image of this page (its channel, or
// the one that has the conversation), {href} for another page, or null.
export function routeNotification(n, targets) {
  const chatId = n.conversationId || null;
  const target = targets.find((t) => t.urlId === n.urlIdWS) || (chatId && targets.find((t) => t.has(chatId)));
  if (target) return { target, chatId };
  if (n.url) return { href: conversationLink(n.url, chatId) };
  return null;
}

const CENTERS = new WeakMap();

export class NotificationCenter {
  // The socket's center; `makeRest()` gives it its own REST client (it outlives any image).
  static of(socket, makeRest) {
    let center = CENTERS.get(socket);
    if (!center) { center = new NotificationCenter(socket, makeRest()); CENTERS.set(socket, center); }
    return center;
  }

  constructor(socket, rest) {
    this.socket = socket;
    this.rest = rest;
    this.count = null; // unread; null until read
    this.items = null; // the list, newest first, once read
    this.hasMore = false;
    this.bells = new Set();
    this.wasOpen = false;
    this.unwatch = socket.watch(this);
    this.connectionChanged();
  }

  join(bell) { this.bells.add(bell); }

  // The last bell gone, the center goes too (its calls in flight are dropped).
  leave(bell) {
    this.bells.delete(bell);
    if (this.bells.size) return;
    this.unwatch();
    this.rest.abort();
    if (CENTERS.get(this.socket) === this) CENTERS.delete(this.socket);
  }

  targets() { return Array.from(this.bells, (b) => b.target()); }

  route(n) { return routeNotification(n, this.targets()); }

  changed() { this.bells.forEach((b) => b.changed()); }

  setCount(count) {
    const n = Math.max(0, Number(count) || 0);
    if (n === this.count) return;
    this.count = n;
    this.changed();
  }

  // Marks shown at once, with the count they imply.
  shift(items, viewed, count) {
    items.forEach((n) => { n.viewed = viewed; });
    this.count = Math.max(0, count);
    this.changed();
  }

  // -- from the live socket
  connectionChanged() {
    const open = this.socket.state === 'open';
    // Notifications are not resumed: after an absence the count is read again, and the
    // list (if it was shown) too.
    if (open && !this.wasOpen) {
      this.readCount();
      if (this.items) this.readList();
    }
    this.wasOpen = open;
  }

  notice(ev) {
    if (ev.type === 'notification-update') { this.setCount(ev.count); return; }
    const n = ev.notification;
    if (!n || !n._id) return;
    if (this.items) {
      if (this.items.some((m) => m._id === n._id)) return;
      this.items.unshift(n);
    }
    if (!n.viewed) this.setCount((this.count || 0) + 1);
    // What happens on an image of this page is announced by that image already (a new
    // message, a conversation resolved); the first bell announces the rest.
    const first = this.bells.values().next().value;
    const where = this.route(n);
    if (first && !(where && where.target)) first.noticed(n);
    this.changed();
  }

  // -- reading and marking
  async readCount() {
    try { this.setCount((await this.rest.notificationCount()).count); } catch (e) { /* the bell shows no count */ }
  }

  async readList() {
    const res = await this.rest.notifications({ pageSize: LIST_SIZE });
    this.items = res.notifications || [];
    this.hasMore = !!res.hasMore;
    this.changed();
    return this.items;
  }

  // Optimistic: the count goes down at once, and back up if the server refuses.
  async markRead(n) {
    if (n.viewed) return;
    this.shift([n], true, (this.count || 1) - 1);
    try {
      await this.rest.markNotification(n._id, 'read');
    } catch (e) {
      this.shift([n], false, (this.count || 0) + 1);
      throw e;
    }
  }

  async markAllRead() {
    const unread = (this.items || []).filter((n) => !n.viewed);
    const count = this.count || 0;
    this.shift(unread, true, 0);
    try {
      await this.rest.markAllRead();
    } catch (e) {
      this.shift(unread, false, count);
      throw e;
    }
  }
}
