// Who may do what, and the moderator's tools: the lock switch on the image and the ban.
// The server checks every write; these only decide which actions the widget offers.

import { button, el } from './dom.mjs';
import { editKey } from './ids.mjs';

export function isModerator(user) { return !!(user && (user.isModerator || user.isAdmin)); }

// A comment or conversation is the visitor's when this browser holds its edit key (written
// anonymously) or when it carries the signed-in user's id.
export function owns(user, item) {
  return !!(editKey(item._id) || (user && item.userId && item.userId === user.id));
}

// An anonymous author proves ownership with the edit key; a signed-in one by the SSO token.
export function keyQuery(sso, id) {
  const k = sso ? null : editKey(id);
  return k ? { editKey: k } : {};
}

// Read-only by the page's choice, or locked by a moderator (moderators still write).
export function isReadonly(pageReadonly, locked, user) {
  return pageReadonly || (locked && !isModerator(user));
}

// The lock switch moderators and admins get on the image itself. `widget` gives user,
// locked, t, rest, wrap and banner, and setLocked, toast and refuseIfDown.
export class LockSwitch {
  constructor(widget) {
    this.widget = widget;
    this.bar = null;
  }

  render() {
    const w = this.widget;
    if (!isModerator(w.user)) { this.remove(); return; }
    if (!this.bar) {
      this.bar = w.wrap.insertBefore(el('div', 'ic-modbar'), w.banner);
      this.note = this.bar.appendChild(el('span', 'ic-lock-note'));
      this.btn = this.bar.appendChild(button('ic-btn ic-lock', ''));
      this.btn.addEventListener('click', () => this.toggle());
    }
    this.btn.textContent = w.t(w.locked ? 'unlock' : 'lock');
    this.btn.setAttribute('aria-pressed', String(w.locked));
    this.note.textContent = w.locked ? w.t('lockedMod') : '';
    this.note.hidden = !w.locked;
  }

  remove() {
    if (this.bar) { this.bar.remove(); this.bar = null; }
  }

  async toggle() {
    const w = this.widget;
    if (w.refuseIfDown()) return;
    const want = !w.locked;
    this.btn.disabled = true;
    try {
      await w.rest.lockImage(w.opts.urlId, want);
      w.setLocked(want, true);
    } catch (e) {
      w.toast(w.t('errMod', { reason: e.message }));
    } finally {
      this.btn.disabled = false;
      this.btn.focus();
    }
  }
}

// Ban a message's author, in two steps: the first click asks, the second bans.
export async function banAuthor(widget, c, btn) {
  const t = widget.t;
  if (!btn.dataset.armed) {
    btn.dataset.armed = '1';
    btn.textContent = t('banConfirm');
    btn.classList.add('ic-armed');
    return;
  }
  if (widget.refuseIfDown()) return;
  btn.disabled = true;
  try {
    await widget.rest.banUser(c.userId ? { userId: c.userId } : { anonUserId: c.anonUserId });
    widget.announce(t('banned', { name: c.commenterName || '' }));
    widget.toast(t('banned', { name: c.commenterName || '' }));
    btn.remove();
  } catch (e) {
    btn.disabled = false;
    widget.error(t('errMod', { reason: e.message }));
  }
}
