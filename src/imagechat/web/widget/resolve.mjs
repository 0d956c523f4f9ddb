// Resolving and reopening conversations: who is offered it, the optimistic write, and the
// "show resolved" switch on the image (resolved markers are drawn dimmed with a check,
// markers.mjs and the styles). The server decides; the list says whether the site lets
// every writer resolve (`visitorsResolve`), so the button is offered where it will work.
//
// `widget` gives t, opts, user, readonly, tools, wrap, markers, rest, win, and
// upsertConversation, conversationChanged, refuseIfDown, announce and error.

import { el } from './dom.mjs';
import { newBroadcastId } from './ids.mjs';
import { isModerator, keyQuery, owns } from './moderation.mjs';

// The conversation's author (its edit key in this browser, or the signed-in user's id),
// moderators and admins; everyone, where the site allows it.
export function mayResolve(user, conversation, visitorsResolve = false) {
  return !!conversation && (visitorsResolve || owns(user, conversation) || isModerator(user));
}

export async function setResolved(w, chatId, resolved) {
  const conversation = w.markers.data(chatId);
  if (!conversation || w.refuseIfDown()) return;
  const before = { _id: chatId, resolved: !!conversation.resolved, resolvedBy: conversation.resolvedBy, resolvedAt: conversation.resolvedAt };
  const me = (w.user && (w.user.displayName || w.user.username)) || conversation.resolvedBy || null;
  w.upsertConversation(resolved ? { _id: chatId, resolved, resolvedBy: me, resolvedAt: Date.now() } : { _id: chatId, resolved });
  w.conversationChanged(chatId);
  try {
    const body = Object.assign({ resolved, broadcastId: newBroadcastId() }, keyQuery(w.opts.sso, chatId));
    const res = await w.rest.resolveConversation(chatId, body);
    if (!w.markers.has(chatId)) return;
    w.upsertConversation(res.chat);
    w.conversationChanged(chatId);
    w.announce(w.t(resolved ? 'resolvedDone' : 'reopenedDone'));
  } catch (e) {
    if (w.markers.has(chatId)) { w.upsertConversation(before); w.conversationChanged(chatId); }
    w.error(w.t('errResolve', { reason: e.message }));
  }
}

// The switch on the image: there once the image has a resolved conversation (or while it
// hides them); off, resolved markers are not drawn (a class on the image, pure CSS).
export class ResolvedSwitch {
  constructor(widget) {
    this.widget = widget;
    this.on = widget.opts.showResolved;
    this.btn = null;
    widget.wrap.classList.toggle('ic-hide-resolved', !this.on);
  }

  render() {
    const w = this.widget;
    const wanted = !this.on || w.markers.resolvedCount > 0;
    if (!wanted) { if (this.btn) { this.btn.remove(); this.btn = null; } return; }
    if (!this.btn) {
      this.btn = el('button', 'ic-tool ic-switch', { type: 'button', role: 'switch' });
      this.btn.appendChild(el('span', 'ic-switch-knob', { 'aria-hidden': 'true' }));
      this.btn.appendChild(el('span')).textContent = w.t('showResolved');
      this.btn.addEventListener('click', () => this.set(!this.on));
      w.tools.insertBefore(this.btn, w.tools.firstChild);
    }
    if (this.btn.getAttribute('aria-checked') !== String(this.on)) this.btn.setAttribute('aria-checked', String(this.on));
  }

  set(on) {
    this.on = on;
    this.widget.wrap.classList.toggle('ic-hide-resolved', !on);
    this.render();
  }
}
