// The composer's `@` suggestions: spotting a mention, filtering, the cache, keys, picking.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  ComboState, filterUsers, fromCache, insertMention, MAX_SUGGESTIONS, mentionAt, mentionsIn
} from '../../src/imagechat/web/widget/combobox.mjs';

const ANN = { id: 'ann', name: 'Ann Lee', displayName: 'Ann Lee' };
const ANDRE = { id: 'andre', name: 'André', displayName: 'André' };
const BO = { id: 'bo', name: 'Bo', displayName: 'Bo' };

describe('spotting the mention being typed', () => {
  test('an @ at the start or after a space, up to the caret', () => {
    assert.deepEqual(mentionAt('@an', 3), { start: 0, query: 'an' });
    assert.deepEqual(mentionAt('hi @Ann L', 9), { start: 3, query: 'Ann L' });
    assert.deepEqual(mentionAt('hi (@b', 6), { start: 4, query: 'b' });
    assert.deepEqual(mentionAt('hi @', 4), { start: 3, query: '' });
    // The caret decides, not the end of the text.
    assert.deepEqual(mentionAt('@bo and more', 3), { start: 0, query: 'bo' });
  });

  test('no mention: no @, an e-mail address, a line break, double spaces, a space first', () => {
    assert.equal(mentionAt('hello', 5), null);
    assert.equal(mentionAt('mail ann@example.com', 20), null);
    assert.equal(mentionAt('@ann\nnext', 9), null);
    assert.equal(mentionAt('@ann  lee', 9), null);
    assert.equal(mentionAt('@ ann', 5), null);
    assert.equal(mentionAt('@' + 'x'.repeat(41), 42), null);
  });
});

describe('filtering', () => {
  test('names that start with the query, any case, accents optional, each user once', () => {
    const users = [ANN, ANDRE, BO, ANN];
    assert.deepEqual(filterUsers(users, 'an').map((u) => u.id), ['ann', 'andre']);
    assert.deepEqual(filterUsers(users, 'ANDRE').map((u) => u.id), ['andre']);
    assert.deepEqual(filterUsers(users, 'ann l').map((u) => u.id), ['ann']);
    assert.deepEqual(filterUsers(users, 'lee'), [], 'the server matches the start of the name too');
    assert.deepEqual(filterUsers(users, '').map((u) => u.id), ['ann', 'andre', 'bo']);
  });

  test('at most as many as the server answers', () => {
    const many = Array.from({ length: 15 }, (_, i) => ({ id: 'u' + i, name: 'User ' + i }));
    assert.equal(filterUsers(many, 'user').length, MAX_SUGGESTIONS);
  });

  test('a complete answer for a shorter query serves longer ones without asking', () => {
    const cache = new Map([['a', [ANN, ANDRE]]]);
    assert.deepEqual(fromCache(cache, 'An').map((u) => u.id), ['ann', 'andre']);
    assert.deepEqual(fromCache(cache, 'andr').map((u) => u.id), ['andre']);
    assert.equal(fromCache(cache, 'b'), null, 'nothing known: ask');
    // A full answer may have left users out: a longer query is asked again...
    const full = Array.from({ length: MAX_SUGGESTIONS }, (_, i) => ({ id: 'u' + i, name: 'a' + i }));
    const partial = new Map([['a', full]]);
    assert.equal(fromCache(partial, 'ab'), null);
    // ...but the same query is what the server said.
    assert.equal(fromCache(partial, 'A').length, MAX_SUGGESTIONS);
  });
});

describe('the list and its keys', () => {
  test('arrows move around, Enter and Tab pick, Escape closes', () => {
    const s = new ComboState();
    assert.equal(s.key('ArrowDown'), null, 'closed: keys are the composer\'s');
    s.show([ANN, ANDRE, BO]);
    assert.equal(s.open, true);
    assert.equal(s.active, ANN);
    assert.equal(s.key('ArrowDown'), 'move');
    assert.equal(s.active, ANDRE);
    assert.equal(s.key('ArrowUp'), 'move');
    assert.equal(s.key('ArrowUp'), 'move');
    assert.equal(s.active, BO, 'wraps around');
    assert.equal(s.key('Enter'), 'pick');
    assert.equal(s.key('Tab'), 'pick');
    assert.equal(s.key('a'), null, 'typing goes on');
    assert.equal(s.key('Escape'), 'close');
    assert.equal(s.open, false);
    assert.equal(s.active, null);
    assert.equal(s.key('Enter'), null, 'Enter sends again');
  });

  test('the active user stays active when the list narrows, else the first is', () => {
    const s = new ComboState();
    s.show([ANN, ANDRE, BO]);
    s.key('ArrowDown');
    s.show([ANDRE]);
    assert.equal(s.active, ANDRE);
    s.show([ANN, BO]);
    assert.equal(s.active, ANN);
    s.show([]);
    assert.equal(s.open, false);
  });
});

describe('picking', () => {
  test('the typed mention becomes @name and a space, the caret after it', () => {
    const text = 'hi @an, see this';
    const done = insertMention(text, mentionAt(text, 6), 6, 'Ann Lee');
    assert.deepEqual(done, { text: 'hi @Ann Lee , see this', caret: 12, tag: '@Ann Lee' });
    const end = insertMention('ok @b', { start: 3, query: 'b' }, 5, 'Bo');
    assert.deepEqual(end, { text: 'ok @Bo ', caret: 7, tag: '@Bo' });
    const before = insertMention('@b more', { start: 0, query: 'b' }, 2, 'Bo');
    assert.equal(before.text, '@Bo more', 'no second space');
  });

  test('only the mentions still in the text are posted, each user once', () => {
    const picked = [{ id: 'ann', tag: '@Ann Lee' }, { id: 'bo', tag: '@Bo' }, { id: 'ann', tag: '@Ann Lee' }];
    assert.deepEqual(mentionsIn('@Ann Lee look', picked), [{ id: 'ann', tag: '@Ann Lee' }]);
    assert.deepEqual(mentionsIn('@Bo and @Ann Lee', picked).map((m) => m.id), ['ann', 'bo']);
    assert.deepEqual(mentionsIn('nobody', picked), []);
  });
});
