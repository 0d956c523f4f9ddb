// Who is offered Resolve: the author, moderators and admins; everyone where the site lets
// every writer resolve (the list's `visitorsResolve`).

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { mayResolve } from '../../src/imagechat/web/widget/resolve.mjs';

const conversation = { _id: 'c1', userId: 'ann' };

test('the author and moderators may resolve; others only where the site allows it', () => {
  assert.equal(mayResolve({ id: 'ann' }, conversation), true);
  assert.equal(mayResolve({ id: 'mo', isModerator: true }, conversation), true);
  assert.equal(mayResolve({ id: 'bo' }, conversation), false);
  assert.equal(mayResolve(null, conversation), false);
  assert.equal(mayResolve({ id: 'bo' }, conversation, true), true);
  assert.equal(mayResolve(null, conversation, true), true);
  assert.equal(mayResolve({ id: 'ann' }, null, true), false);
});
