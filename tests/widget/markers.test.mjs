// Marker layout: where a click lands on the image and where the window goes.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { ARROW_PX, percentAt, WINDOW_WIDTH_PX, windowPlacement } from '../../src/imagechat/web/widget/markers.mjs';

const BOX = { left: 100, top: 50, width: 800, height: 500 };

test('a click is a point in % of the image, clamped to it', () => {
  assert.deepEqual(percentAt(BOX, 300, 175), { x: 25, y: 25 });
  assert.deepEqual(percentAt(BOX, 50, 600), { x: 0, y: 100 });
  assert.deepEqual(percentAt(BOX, 101, 51), { x: 0.13, y: 0.2 });
});

test('the window goes right of its marker when it fits there, else left, below, above', () => {
  const wide = { width: 1600, height: 900 };
  const right = windowPlacement(BOX, wide, { x: 50, y: 50 }, 5, 200);
  assert.equal(right.side, 'right');
  assert.equal(right.left, 400 + 20 + ARROW_PX); // marker centre + half its 40 px + arrow
  const left = windowPlacement(BOX, { width: 1000, height: 900 }, { x: 90, y: 50 }, 5, 200);
  assert.deepEqual([left.side, left.left], ['left', 720 - 20 - ARROW_PX - WINDOW_WIDTH_PX]);
  const narrow = { left: 0, top: 0, width: 400, height: 500 };
  assert.equal(windowPlacement(narrow, { width: 420, height: 900 }, { x: 50, y: 10 }, 5, 200).side, 'bottom');
  assert.equal(windowPlacement(narrow, { width: 420, height: 520 }, { x: 50, y: 90 }, 5, 200).side, 'top');
});

test('a marker is never smaller than 24 px, also for placing its window', () => {
  const tiny = windowPlacement({ left: 0, top: 0, width: 200, height: 200 }, { width: 1600, height: 900 }, { x: 50, y: 50 }, 5, 100);
  assert.equal(tiny.left, 100 + 12 + ARROW_PX);
});
