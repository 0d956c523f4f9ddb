// Reactions under each comment: the server's five emoji as toggle buttons with their
// counts (POST /comments/{tenantId}/{commentId}/reactions). A toggle shows at once and is
// taken back if the server refuses; other viewers' changes arrive as `updated-comment`
// with the new counts. The buttons are one toolbar: one Tab stop, arrow keys move.
//
// `widget` gives t, rest, readonly, refuseIfDown and error.

import { el } from './dom.mjs';
import { newBroadcastId } from './ids.mjs';

export const REACTIONS = Object.freeze(['👍', '❤️', '🎉', '👀', '✅']);
const NAMES = { '👍': 'reactThumbs', '❤️': 'reactHeart', '🎉': 'reactParty', '👀': 'reactEyes', '✅': 'reactCheck' };

// -- the state of one comment's reactions: {counts: {emoji: n}, mine: [emoji]}

export function reactionState(comment) {
  return { counts: Object.assign({}, comment.reactions || {}), mine: (comment.myReactions || []).slice() };
}

function withEmoji(state, emoji, count, mine) {
  const counts = Object.assign({}, state.counts);
  if (count > 0) counts[emoji] = count; else delete counts[emoji];
  const had = state.mine.indexOf(emoji) >= 0;
  const others = had ? state.mine.filter((e) => e !== emoji) : state.mine;
  return { counts, mine: mine ? (had ? state.mine.slice() : others.concat([emoji])) : others };
}

// The visitor puts the emoji, or takes it back if they had put it.
export function toggled(state, emoji) {
  const on = state.mine.indexOf(emoji) < 0;
  return withEmoji(state, emoji, (state.counts[emoji] || 0) + (on ? 1 : -1), on);
}

// The server's answer for one emoji: its count and whether it is the visitor's.
export function settled(state, emoji, answer) {
  return withEmoji(state, emoji, (answer.reactions || {})[emoji] || 0, (answer.myReactions || []).indexOf(emoji) >= 0);
}

// The write failed: that emoji as it was before it.
export function rolledBack(state, emoji, before) {
  return withEmoji(state, emoji, before.counts[emoji] || 0, before.mine.indexOf(emoji) >= 0);
}

// Counts from a live event, except for emoji whose own write is still on its way (`pending`
// holds them): the answer to that write says where they stand. Live events do not say
// whose the reactions are, so the visitor's own stay as they were, unless nobody has that
// emoji any more (another tab of theirs took it back).
export function withLive(state, counts, pending) {
  let next = state;
  REACTIONS.forEach((emoji) => {
    const n = counts[emoji] || 0;
    if (!pending.has(emoji)) next = withEmoji(next, emoji, n, n > 0 && next.mine.indexOf(emoji) >= 0);
  });
  return next;
}

// -- the toolbar under one comment
export class ReactionBar {
  constructor(widget, comment) {
    this.widget = widget;
    this.id = comment._id;
    this.state = reactionState(comment);
    this.pending = new Set();
    const t = widget.t;
    this.root = el('div', 'ic-reacts', { role: 'toolbar', 'aria-label': t('reactions', { name: comment.commenterName || '' }) });
    this.buttons = REACTIONS.map((emoji) => {
      const b = this.root.appendChild(el('button', 'ic-react', { type: 'button' }));
      b.addEventListener('click', () => this.toggle(emoji));
      return b;
    });
    this.root.addEventListener('keydown', (e) => this.onKey(e));
    this.focusAt = 0;
    this.render();
  }

  // What the comment now carries, for the window's copy of it.
  get value() { return { reactions: this.state.counts, myReactions: this.state.mine }; }

  // A newer copy of the comment (a live event, a reload); without counts it changes nothing.
  live(comment) {
    if (!comment.reactions) return;
    this.state = withLive(this.state, comment.reactions, this.pending);
    this.render();
  }

  render() {
    const t = this.widget.t, readonly = this.widget.readonly, s = this.state;
    let shown = 0;
    this.buttons.forEach((b, i) => {
      const emoji = REACTIONS[i], count = s.counts[emoji] || 0;
      const text = count ? emoji + ' ' + count : emoji;
      if (b.textContent !== text) b.textContent = text;
      b.setAttribute('aria-label', t('reactCount', { name: t(NAMES[emoji]), n: count }));
      b.setAttribute('aria-pressed', String(s.mine.indexOf(emoji) >= 0));
      b.disabled = readonly;
      b.hidden = readonly && !count;
      b.tabIndex = i === this.focusAt ? 0 : -1;
      if (!b.hidden) shown++;
    });
    this.root.hidden = !shown;
  }

  onKey(e) {
    const i = this.buttons.indexOf(e.target), n = REACTIONS.length;
    const to = { ArrowRight: (i + 1) % n, ArrowLeft: (i - 1 + n) % n, Home: 0, End: n - 1 }[e.key];
    if (i < 0 || to === undefined) return;
    e.preventDefault();
    this.focusAt = to;
    this.render();
    this.buttons[to].focus();
  }

  async toggle(emoji) {
    const w = this.widget;
    this.focusAt = REACTIONS.indexOf(emoji);
    if (this.pending.has(emoji) || w.readonly || w.refuseIfDown()) return;
    const before = this.state;
    this.state = toggled(before, emoji);
    const on = this.state.mine.indexOf(emoji) >= 0;
    this.pending.add(emoji);
    this.render();
    try {
      const res = await w.rest.react(this.id, emoji, on, newBroadcastId());
      this.state = settled(this.state, emoji, res.comment || {});
    } catch (e) {
      this.state = rolledBack(this.state, emoji, before);
      w.error(w.t('errReact', { reason: e.message }));
    } finally {
      this.pending.delete(emoji);
      this.render();
    }
  }
}
