// The bar under the chat window's title: whether the conversation is resolved (and by
// whom), Resolve or Reopen for whoever may (resolve.mjs), and the follow switch: following
// a thread brings a notification for each new comment in it (writing in it follows it).
//
// `win` is the ConversationWindow: widget, conversation, chatId, root, open.

import { el, formatTime, icon } from './dom.mjs';
import { pageUrl } from './notifications.mjs';
import { mayResolve, setResolved } from './resolve.mjs';

export class ConversationBar {
  constructor(win) {
    this.win = win;
    const w = win.widget, t = w.t;
    this.root = el('div', 'ic-chatbar');
    this.note = this.root.appendChild(el('p', 'ic-resolved-note'));
    this.resolveBtn = null;
    this.followBtn = null;
    this.following = null; // unknown until read
    if (!w.readonly && mayResolve(w.user, win.conversation, w.visitorsResolve)) {
      this.resolveBtn = this.root.appendChild(el('button', 'ic-btn ic-small ic-resolve', { type: 'button' }));
      this.resolveBtn.addEventListener('click', () => setResolved(w, win.chatId, !win.conversation.resolved));
    }
    if (w.opts.notifications) {
      this.followBtn = this.root.appendChild(el('button', 'ic-btn ic-small ic-follow', { type: 'button', 'aria-pressed': 'false' }));
      this.followBtn.appendChild(icon('bell'));
      this.followBtn.appendChild(el('span')).textContent = t('follow');
      this.followBtn.addEventListener('click', () => this.toggleFollow());
      this.loadFollow();
    }
    this.render();
  }

  render() {
    const conversation = this.win.conversation, t = this.win.widget.t;
    if (!conversation) return;
    const when = conversation.resolvedAt ? ' · ' + formatTime(conversation.resolvedAt, this.win.widget.opts.locale) : '';
    this.note.textContent = conversation.resolved ? '✓ ' + (conversation.resolvedBy ? t('resolvedBy', { name: conversation.resolvedBy }) : t('resolvedNote')) + when : '';
    this.note.hidden = !conversation.resolved;
    this.win.root.classList.toggle('ic-is-resolved', !!conversation.resolved);
    if (this.resolveBtn) this.resolveBtn.textContent = t(conversation.resolved ? 'reopen' : 'resolve');
    if (this.followBtn) {
      this.followBtn.setAttribute('aria-pressed', String(!!this.following));
      this.followBtn.disabled = this.following === null;
    }
  }

  async loadFollow() {
    const w = this.win.widget, conversation = this.win.conversation;
    try {
      const res = await w.rest.notifications({ urlId: conversation.windowUrlId, pageSize: 1 });
      if (this.following === null) this.following = !!res.isSubscribed;
    } catch (e) {
      if (this.followBtn) { this.followBtn.remove(); this.followBtn = null; }
    }
    if (this.win.open) this.render();
  }

  // Writing in the thread followed it (the server does so).
  followed() { this.following = true; this.render(); }

  async toggleFollow() {
    const w = this.win.widget, conversation = this.win.conversation;
    if (this.following === null || !conversation || w.refuseIfDown()) return;
    const want = !this.following;
    this.following = want;
    this.render();
    try {
      await w.rest.setFollowing(conversation.windowUrlId, want, pageUrl(location.href), document.title);
      w.announce(w.t(want ? 'followOn' : 'followOff'));
    } catch (e) {
      this.following = !want;
      this.render();
      w.error(w.t('errFollow', { reason: e.message }));
    }
  }
}
