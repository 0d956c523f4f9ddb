// The REST calls of the widget (the server documents each at /docs). Every call names the
// visitor: by the SSO token when the page gave one, else by the browser's anonymous id.

import { anonUserId } from './ids.mjs';

export class Rest {
  constructor(host, tenantId, sso, t) {
    this.host = host; this.tenantId = tenantId; this.sso = sso; this.t = t;
    this.controller = new AbortController();
  }

  // For destroy(): calls in flight are cancelled and no call settles any more, so nothing
  // runs afterwards for a widget that is gone.
  abort() { this.controller.abort(); }

  async call(method, path, query, body) {
    const q = new URLSearchParams();
    Object.keys(query || {}).forEach((k) => { if (query[k] != null) q.set(k, query[k]); });
    if (this.sso) q.set('sso', this.sso); else q.set('anonUserId', anonUserId());
    const signal = this.controller.signal;
    let res;
    try {
      res = await fetch(this.host + path + '?' + q, {
        method, headers: body ? { 'Content-Type': 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined, signal
      });
    } catch (e) {
      if (signal.aborted) return never();
      throw new Error(this.t('network'));
    }
    let data = null;
    try { data = await res.json(); } catch (e) { /* not JSON */ }
    if (signal.aborted) return never();
    if (!res.ok || !data || data.status !== 'success') throw new Error((data && data.reason) || 'HTTP ' + res.status);
    return data;
  }

  path(resource, id) {
    return '/' + resource + '/' + encodeURIComponent(this.tenantId) + (id == null ? '' : '/' + encodeURIComponent(id));
  }

  // `version`: each conversation's place on that version of the image (null: the latest).
  listConversations(urlId, version) { return this.call('GET', this.path('comment-image-chats'), { urlId, version }); }

  createConversation(body) { return this.call('POST', this.path('comment-image-chats'), null, body); }

  deleteConversation(chatId, query) { return this.call('DELETE', this.path('comment-image-chats', chatId), query); }

  listComments(windowUrlId) { return this.call('GET', this.path('comments'), { urlId: windowUrlId, count: 200 }); }

  postComment(windowUrlId, broadcastId, body) {
    return this.call('POST', this.path('comments'), { urlId: windowUrlId, broadcastId }, body);
  }

  updateComment(commentId, query, text) {
    return this.call('POST', this.path('comments', commentId) + '/update-text', query, { comment: text });
  }

  deleteComment(commentId, query) { return this.call('DELETE', this.path('comments', commentId), query); }

  // -- versions of the image (versions.mjs, carry.mjs)
  listVersions(urlId) { return this.call('GET', this.path('image-versions'), { urlId }); }

  reportImage(body) { return this.call('POST', this.path('image-versions'), null, body); }

  moveConversation(chatId, body) { return this.call('POST', this.path('comment-image-chats', chatId) + '/move', null, body); }

  lockImage(urlId, locked) { return this.call('POST', this.path('lock-image'), { urlId }, { locked }); }

  banUser(who) { return this.call('POST', this.path('ban-user'), null, who); }

  // -- the review workflow: resolving, reactions, mentions, notifications, following
  resolveConversation(chatId, body) { return this.call('POST', this.path('comment-image-chats', chatId) + '/resolve', null, body); }

  react(commentId, emoji, on, broadcastId) {
    return this.call('POST', this.path('comments', commentId) + '/reactions', null, { emoji, on, broadcastId });
  }

  searchUsers(urlId, prefix) { return this.call('GET', this.path('user-search'), { urlId, usernameStartsWith: prefix }); }

  // These name their tenant in the query, as in the reference.
  notifications(query) { return this.call('GET', '/user-notifications', Object.assign({ tenantId: this.tenantId }, query)); }

  notificationCount() { return this.call('GET', '/user-notifications/get-count', { tenantId: this.tenantId }); }

  markNotification(id, state) {
    return this.call('POST', '/user-notifications/' + encodeURIComponent(id) + '/mark/' + state, { tenantId: this.tenantId });
  }

  markAllRead() { return this.call('POST', '/user-notifications/reset', { tenantId: this.tenantId }); }

  setFollowing(urlId, on, url, pageTitle) {
    return this.call('POST', '/user-notifications/set-subscription-state/' + (on ? 'subscribe' : 'unsubscribe'),
      { tenantId: this.tenantId, urlId, url, pageTitle });
  }
}

function never() { return new Promise(() => {}); }
