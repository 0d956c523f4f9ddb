// Carry-over in the widget: who may drag a pin into place, which wait for review, where a
// drop lands, and a moved region keeping its size inside the image.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { dropPoint, mayMove, movedPlace, needsReview } from '../../src/imagechat/web/widget/carry.mjs';

test('only lost conversations wait for review, in marker order', () => {
  const conversations = [{ _id: 'a', carry: 'lost' }, { _id: 'b', carry: 'same' }, { _id: 'c', carry: 'lost' }, { _id: 'd', carry: 'moved' }, { _id: 'e' }];
  const order = { a: 3, c: 1 };
  assert.deepEqual(needsReview(conversations, (id) => order[id]).map((c) => c._id), ['c', 'a']);
});

test('the author and moderators may move a conversation, others not', () => {
  assert.equal(mayMove({ id: 'ann' }, { _id: 'x', userId: 'ann' }), true);
  assert.equal(mayMove({ id: 'mo', isModerator: true }, { _id: 'x', userId: 'ann' }), true);
  assert.equal(mayMove({ id: 'bo' }, { _id: 'x', userId: 'ann' }), false);
  assert.equal(mayMove({ id: 'ann' }, null), false);
});

test('a drop counts only on the image, in % of it', () => {
  const box = { left: 100, top: 50, width: 800, height: 500 };
  assert.deepEqual(dropPoint(box, 300, 175), { x: 25, y: 25 });
  assert.equal(dropPoint(box, 99, 175), null);
  assert.equal(dropPoint(box, 300, 551), null);
});

test('a moved point goes where it is dropped; a region keeps its size, inside the image', () => {
  assert.deepEqual(movedPlace({ x: 1, y: 1 }, { x: 30, y: 40 }), { x: 30, y: 40, region: null });
  const region = { shape: 'rect', x: 1, y: 1, w: 20, h: 10 };
  assert.deepEqual(movedPlace({ x: 1, y: 1, region }, { x: 30, y: 40 }), { x: 30, y: 40, region: { shape: 'rect', x: 30, y: 40, w: 20, h: 10 } });
  assert.deepEqual(movedPlace({ x: 1, y: 1, region }, { x: 95, y: 95 }), { x: 80, y: 90, region: { shape: 'rect', x: 80, y: 90, w: 20, h: 10 } });
});
