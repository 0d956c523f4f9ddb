// Who is offered Resolve: the author, moderators and admins; everyone where the site lets
// every writer resolve (the list's `visitorsResolve`).

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { mayResolve } from '../../src/imagechat/web/widget/resolve.mjs';

const chat = { _id: 'c1', userId: 'ann' };

test('the author and moderators may resolve; others only where the site allows it', () => {
  assert.equal(mayResolve({ id: 'ann' }, chat), true);
  assert.equal(mayResolve({ id: 'mo', isModerator: true }, chat), true);
  assert.equal(mayResolve({ id: 'bo' }, chat), false);
  assert.equal(mayResolve(null, chat), false);
  assert.equal(mayResolve({ id: 'bo' }, chat, true), true);
  assert.equal(mayResolve(null, chat, true), true);
  assert.equal(mayResolve({ id: 'ann' }, null, true), false);
});
