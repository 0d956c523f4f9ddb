// Versions of the image in the widget: which places apply to the version shown (the
// protocol's rule), a carried place from `image-version`, what the image shows, and the
// compare view's first pair.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { compareSrc, defaultPair } from '../../src/imagechat/web/widget/compare.mjs';
import { carriedPlace, mustReport, placeApplies, remember, REPORT_AGAIN_MS, reportable, upsertVersion, versionSrc, withoutPlace } from '../../src/imagechat/web/widget/versions.mjs';

test('a place applies only on its version: positionVersion, else its own, else the latest', () => {
  assert.equal(placeApplies({ x: 1 }, null, null), true); // no versions at all
  assert.equal(placeApplies({ version: 1, positionVersion: 2 }, 2, 2), true);
  assert.equal(placeApplies({ version: 1, positionVersion: 2 }, 1, 2), false);
  assert.equal(placeApplies({ version: 1 }, 1, 2), true);
  assert.equal(placeApplies({ version: 1 }, 2, 2), false);
  assert.equal(placeApplies({}, 2, 2), true);
  assert.equal(placeApplies({}, 1, 2), false);
});

test('without its place, a conversation keeps everything else', () => {
  const conversation = { _id: 'c', x: 1, y: 2, region: null, carry: 'same', positionVersion: 2, resolved: true, commentCount: 3 };
  assert.deepEqual(withoutPlace(conversation), { _id: 'c', resolved: true, commentCount: 3 });
  assert.equal(conversation.x, 1);
});

test('a carried place is on the new version; a region comes with it, a point clears one', () => {
  assert.deepEqual(carriedPlace({ _id: 'a', x: 40.1, y: 21.7, carry: 'same' }, 2),
    { _id: 'a', x: 40.1, y: 21.7, carry: 'same', region: null, positionVersion: 2 });
  const r = { shape: 'rect', x: 5, y: 6, w: 7, h: 8 };
  assert.deepEqual(carriedPlace({ _id: 'b', x: 5, y: 6, carry: 'origin', region: r, version: 2 }, 2),
    { _id: 'b', x: 5, y: 6, carry: 'origin', region: r, positionVersion: 2, version: 2 });
});

test('a version shows its src, else its thumbnail; only web addresses are reported', () => {
  assert.equal(versionSrc({ src: 'https://cdn.test/v2.png', thumbnail: '/t' }, 'https://ic.test'), 'https://cdn.test/v2.png');
  assert.equal(versionSrc({ src: null, thumbnail: '/t?v=2' }, 'https://ic.test'), 'https://ic.test/t?v=2');
  assert.equal(versionSrc({ src: null, thumbnail: null }, 'https://ic.test'), null);
  assert.equal(compareSrc({ src: 'https://cdn.test/v2.png', thumbnail: '/t' }, 'https://ic.test'), 'https://ic.test/t');
  assert.equal(compareSrc({ src: 'https://cdn.test/v2.png', thumbnail: null }, 'https://ic.test'), 'https://cdn.test/v2.png');
  assert.equal(reportable('https://cdn.test/a.png'), true);
  assert.equal(reportable('data:image/png;base64,AAAA'), false);
  assert.equal(reportable('blob:https://x/1'), false);
});

test('versions stay one per number, oldest first', () => {
  let list = upsertVersion([], { version: 2, src: 'b' });
  list = upsertVersion(list, { version: 1, src: 'a' });
  list = upsertVersion(list, { version: 2, src: 'b', thumbnail: '/t' });
  assert.deepEqual(list.map((v) => [v.version, v.thumbnail || null]), [[1, null], [2, '/t']]);
});

test('compare starts with the version before the one shown, against it', () => {
  const vs = [{ version: 1 }, { version: 2 }, { version: 3 }];
  assert.deepEqual(defaultPair(vs, 3), [2, 3]);
  assert.deepEqual(defaultPair(vs, 1), [1, 2]);
  assert.deepEqual(defaultPair(vs, null), [2, 3]);
  assert.equal(defaultPair([{ version: 1 }], 1), null);
});

test('a browser reports an address once, unless the latest version moved on or it was long ago', () => {
  const t0 = 1_000_000;
  assert.equal(mustReport({}, 'img', 'https://a/v1.png', 1, t0), true);
  const seen = remember({}, 'img', 'https://a/v1.png', 1, t0);
  assert.equal(mustReport(seen, 'img', 'https://a/v1.png', 1, t0 + 1000), false);
  assert.equal(mustReport(seen, 'img', 'https://a/v1.png', 2, t0 + 1000), true); // the page may show an old one
  assert.equal(mustReport(seen, 'img', 'https://a/v1.png', null, t0 + 1000), true);
  assert.equal(mustReport(seen, 'other', 'https://a/v1.png', 1, t0 + 1000), true);
  assert.equal(mustReport(seen, 'img', 'https://a/v1.png', 1, t0 + REPORT_AGAIN_MS + 1), true);
});

test('what is remembered stays small: the newest addresses', () => {
  let seen = {};
  for (let i = 0; i < 60; i++) seen = remember(seen, 'img', 'https://a/' + i + '.png', 1, i);
  assert.equal(Object.keys(seen).length, 50);
  assert.ok(seen['img https://a/59.png'] && !seen['img https://a/9.png']);
});
