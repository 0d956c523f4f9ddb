// Regions: what a drag or the keyboard makes, in % of the image, within the server's rules
// (each side at least 0.5 %, inside the image).

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { contains, MIN_REGION, rectBetween, regionStyle, resized } from '../../src/imagechat/web/widget/regions.mjs';

test('a drag in any direction is the rectangle between its ends, its corner top left', () => {
  const down = { x: 40, y: 30 }, up = { x: 10.123, y: 50 };
  assert.deepEqual(rectBetween(down, up), { shape: 'rect', x: 10.12, y: 30, w: 29.88, h: 20 });
  assert.deepEqual(rectBetween(up, down), rectBetween(down, up));
});

test('a drag is kept inside the image, and one too small is no region (a point then)', () => {
  assert.deepEqual(rectBetween({ x: 90, y: 90 }, { x: 130, y: 120 }), { shape: 'rect', x: 90, y: 90, w: 10, h: 10 });
  assert.deepEqual(rectBetween({ x: -5, y: 0 }, { x: 5, y: 5 }), { shape: 'rect', x: 0, y: 0, w: 5, h: 5 });
  assert.equal(rectBetween({ x: 10, y: 10 }, { x: 10 + MIN_REGION / 2, y: 40 }), null);
  assert.equal(rectBetween({ x: 10, y: 10 }, { x: 40, y: 10.2 }), null);
  assert.ok(rectBetween({ x: 10, y: 10 }, { x: 10 + MIN_REGION, y: 10 + MIN_REGION }));
});

test('Shift+arrows size a region from the corner, never past the edge or below nothing', () => {
  const corner = { x: 90, y: 10 };
  let size = { w: 0, h: 0 };
  size = resized(corner, size, 2, 0); size = resized(corner, size, 2, 2);
  assert.deepEqual(size, { w: 4, h: 2 });
  for (let i = 0; i < 10; i++) size = resized(corner, size, 2, 0);
  assert.equal(size.w, 10);
  assert.deepEqual(resized(corner, { w: 2, h: 2 }, -2, -4), { w: 0, h: 0 });
});

test('a region is drawn in % of the image, so it keeps its place when the image is resized', () => {
  assert.deepEqual(regionStyle({ x: 10, y: 20, w: 30, h: 12.5 }), { left: '10%', top: '20%', width: '30%', height: '12.5%' });
  assert.equal(contains({ x: 10, y: 20, w: 30, h: 10 }, { x: 25, y: 25 }), true);
  assert.equal(contains({ x: 10, y: 20, w: 30, h: 10 }, { x: 45, y: 25 }), false);
  assert.equal(contains(null, { x: 1, y: 1 }), false);
});
