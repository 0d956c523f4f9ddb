// Reactions: toggling, the server's answer, taking a refused toggle back, live counts.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  REACTIONS, reactionState, rolledBack, settled, toggled, withLive
} from '../../src/imagechat/web/widget/reactions.mjs';

test('the five emoji the server takes', () => {
  assert.deepEqual([...REACTIONS], ['👍', '❤️', '🎉', '👀', '✅']);
});

test('a comment\'s reactions, copied (the comment is not changed by toggling)', () => {
  const comment = { reactions: { '👍': 2 }, myReactions: ['👍'] };
  const s = reactionState(comment);
  toggled(s, '👍');
  assert.deepEqual(s, { counts: { '👍': 2 }, mine: ['👍'] });
  assert.deepEqual(reactionState({}), { counts: {}, mine: [] });
});

test('toggling puts the emoji, or takes back the visitor\'s own', () => {
  let s = reactionState({ reactions: { '👍': 2 }, myReactions: [] });
  s = toggled(s, '👍');
  assert.deepEqual(s, { counts: { '👍': 3 }, mine: ['👍'] });
  s = toggled(s, '🎉');
  assert.deepEqual(s, { counts: { '👍': 3, '🎉': 1 }, mine: ['👍', '🎉'] });
  s = toggled(s, '👍');
  assert.deepEqual(s, { counts: { '👍': 2, '🎉': 1 }, mine: ['🎉'] });
  s = toggled(s, '🎉');
  assert.deepEqual(s, { counts: { '👍': 2 }, mine: [] }, 'a count of 0 is no count');
});

test('the answer settles the toggled emoji only', () => {
  let s = toggled(reactionState({ reactions: { '❤️': 1 } }), '👍');
  s = settled(s, '👍', { reactions: { '👍': 4, '❤️': 9 }, myReactions: ['👍'] });
  assert.deepEqual(s, { counts: { '👍': 4, '❤️': 1 }, mine: ['👍'] });
  // The server says it is not ours after all (another tab took it back first).
  s = settled(s, '👍', { reactions: { '👍': 3 }, myReactions: [] });
  assert.deepEqual(s, { counts: { '👍': 3, '❤️': 1 }, mine: [] });
});

test('a refused toggle is taken back, leaving other changes', () => {
  const before = reactionState({ reactions: { '👍': 1, '👀': 2 }, myReactions: ['👍'] });
  let s = toggled(before, '👍');
  s = toggled(s, '👀');
  s = rolledBack(s, '👍', before);
  assert.deepEqual(s, { counts: { '👍': 1, '👀': 3 }, mine: ['👀', '👍'] });
});

test('live counts replace the shown ones, except for emoji whose write is on its way', () => {
  let s = toggled(reactionState({ reactions: { '👍': 1, '✅': 5 }, myReactions: ['✅'] }), '👍');
  s = withLive(s, { '👍': 1, '❤️': 2 }, new Set(['👍']));
  assert.deepEqual(s.counts, { '👍': 2, '❤️': 2 }, '✅ went to 0, 👍 keeps the optimistic 2');
  assert.deepEqual(s.mine, ['👍'], 'nobody has ✅ now: not the visitor either');
  s = withLive(s, { '👍': 7, '❤️': 1 }, new Set());
  assert.deepEqual(s, { counts: { '👍': 7, '❤️': 1 }, mine: ['👍'] }, 'live events do not say whose reactions they are');
});
