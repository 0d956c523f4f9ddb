// The viewer's notifications: deep links, where a notification opens, and the center that
// keeps the unread count over a live socket (against the fake live server).

import assert from 'node:assert/strict';
import { beforeEach, describe, test } from 'node:test';

import { LiveSocket } from '../../src/imagechat/web/widget/live-socket.mjs';
import {
  conversationLink, linkedConversationId, NotificationCenter, pageUrl, routeNotification
} from '../../src/imagechat/web/widget/notifications.mjs';
import { fakeEnv, FakeServer, Recorder } from './fake-server.mjs';

describe('deep links', () => {
  test('#imagechat=<chatId> names a conversation', () => {
    assert.equal(linkedConversationId('#imagechat=5f0c2a9e'), '5f0c2a9e');
    assert.equal(linkedConversationId('#imagechat=a%2Fb'), 'a/b');
    assert.equal(linkedConversationId('#imagechat='), null);
    assert.equal(linkedConversationId('#other'), null);
    assert.equal(linkedConversationId(''), null);
    assert.equal(linkedConversationId('#imagechat=%E0%A4%A'), null, 'broken escapes name nothing');
  });

  test('a link to a page opens the conversation, replacing any fragment', () => {
    assert.equal(conversationLink('https://shop.test/review?v=2', 'c1'), 'https://shop.test/review?v=2#imagechat=c1');
    assert.equal(conversationLink('https://shop.test/review#top', 'c 1'), 'https://shop.test/review#imagechat=c%201');
    assert.equal(conversationLink('https://shop.test/blog#x', null), 'https://shop.test/blog');
  });

  test('the address written on leaves our link out, and only that', () => {
    assert.equal(pageUrl('https://shop.test/a?b=1#imagechat=c1'), 'https://shop.test/a?b=1');
    assert.equal(pageUrl('https://shop.test/app#/route'), 'https://shop.test/app#/route');
  });
});

describe('where a notification opens', () => {
  const image = (urlId, conversations) => ({ urlId, has: (id) => conversations.includes(id) });
  const one = image('review/one', ['c1']);
  const two = image('review/two', ['c2']);
  const note = (fields) => Object.assign({ urlIdWS: 'review/one', conversationId: 'c1', url: 'https://shop.test/one' }, fields);

  test('on the image of this page that is its channel', () => {
    assert.deepEqual(routeNotification(note(), [two, one]), { target: one, chatId: 'c1' });
  });

  test('else on the image of this page that has the conversation', () => {
    assert.deepEqual(routeNotification(note({ urlIdWS: 'elsewhere', conversationId: 'c2' }), [one, two]), { target: two, chatId: 'c2' });
  });

  test('else on the page it was written on, with the deep link', () => {
    assert.deepEqual(routeNotification(note({ urlIdWS: 'review/three', conversationId: 'c3' }), [one, two]),
      { href: 'https://shop.test/one#imagechat=c3' });
    assert.deepEqual(routeNotification(note({ urlIdWS: 'blog/post', conversationId: null, url: 'https://shop.test/blog' }), []),
      { href: 'https://shop.test/blog' });
  });

  test('nowhere without a page to go to', () => {
    assert.equal(routeNotification(note({ urlIdWS: 'x', conversationId: 'c9', url: '' }), [one]), null);
  });
});

// A REST client that answers as the test says, and records what was asked.
class FakeRest {
  constructor() { this.calls = []; this.count = 0; this.list = []; this.fail = false; this.aborted = false; }
  answer(name, value) {
    this.calls.push(name);
    return this.fail ? Promise.reject(new Error('refused')) : Promise.resolve(value);
  }
  notificationCount() { return this.answer('count', { count: this.count }); }
  notifications(query) { return this.answer('list:' + query.pageSize, { notifications: this.list.slice(), hasMore: false }); }
  markNotification(id, state) { return this.answer('mark:' + id + ':' + state, {}); }
  markAllRead() { return this.answer('reset', {}); }
  abort() { this.aborted = true; }
}

class FakeBell {
  constructor(urlId, conversations) { this.urlId = urlId; this.conversations = conversations; this.changes = 0; this.heard = []; }
  target() { return { urlId: this.urlId, has: (id) => this.conversations.includes(id), bell: this }; }
  changed() { this.changes++; }
  noticed(n) { this.heard.push(n._id); }
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('the unread count', () => {
  let server, env, socket, rest, center;

  beforeEach(() => {
    server = new FakeServer();
    env = fakeEnv(server);
    socket = new LiveSocket('https://chat.example.test', 'demo', null, env);
    socket.join('review/one', { seq: 0, epoch: 'e1' }, new Recorder(socket));
    rest = new FakeRest();
    center = NotificationCenter.of(socket, () => rest);
  });

  test('one center per socket, shared by the bells of its images', () => {
    assert.equal(NotificationCenter.of(socket, () => assert.fail('not made twice')), center);
  });

  test('is read when the socket opens, and again after every reconnect', async () => {
    rest.count = 3;
    assert.deepEqual(rest.calls, [], 'not before the connection is up');
    server.last.accept();
    await settle();
    assert.equal(center.count, 3);
    server.last.drop(1011);
    rest.count = 5;
    env.clock.fire();
    server.last.accept();
    await settle();
    assert.deepEqual(rest.calls, ['count', 'count']);
    assert.equal(center.count, 5);
  });

  test('a `notification` raises it, a `notification-update` sets it; bells hear both', async () => {
    const bell = new FakeBell('review/one', []), other = new FakeBell('review/two', []);
    center.join(bell); center.join(other);
    server.last.accept();
    await settle();
    server.last.deliver({ type: 'notification', timestamp: 1, notification: { _id: 'n1', viewed: false } });
    assert.equal(center.count, 1);
    server.last.deliver([{ type: 'notification', timestamp: 2, notification: { _id: 'n2', viewed: false } }]);
    assert.equal(center.count, 2);
    assert.deepEqual(bell.heard, ['n1', 'n2'], 'the first bell announces');
    assert.deepEqual(other.heard, []);
    // About an image of this page: that image announced it already.
    server.last.deliver({ type: 'notification', timestamp: 2, notification: { _id: 'n3', viewed: false, urlIdWS: 'review/two' } });
    assert.deepEqual(bell.heard, ['n1', 'n2']);
    assert.equal(center.count, 3);
    assert.ok(other.changes >= 2, 'every bell shows the count');
    server.last.deliver({ type: 'notification-update', timestamp: 3, count: 0 });
    assert.equal(center.count, 0);
  });

  test('viewer events reach the center only, never an image', async () => {
    const image = new Recorder(socket);
    socket.join('review/two', { seq: 0 }, image);
    server.last.accept();
    server.last.deliver({ type: 'notification', timestamp: 1, notification: { _id: 'n1', viewed: false } });
    assert.deepEqual(image.applied(), []);
  });

  test('the list, once read, takes new ones first, each once', async () => {
    rest.list = [{ _id: 'n1', viewed: true }];
    server.last.accept();
    await center.readList();
    server.last.deliver({ type: 'notification', timestamp: 1, notification: { _id: 'n2', viewed: false } });
    server.last.deliver({ type: 'notification', timestamp: 1, notification: { _id: 'n2', viewed: false } });
    assert.deepEqual(center.items.map((n) => n._id), ['n2', 'n1']);
    assert.equal(center.count, 1);
  });

  test('marking read lowers the count at once, and raises it again if refused', async () => {
    rest.count = 2;
    server.last.accept();
    await settle();
    const n = { _id: 'n1', viewed: false };
    const done = center.markRead(n);
    assert.equal(center.count, 1);
    assert.equal(n.viewed, true);
    await done;
    assert.deepEqual(rest.calls.slice(-1), ['mark:n1:read']);
    await center.markRead(n);
    assert.equal(rest.calls.length, 2, 'read already: nothing asked');
    rest.fail = true;
    const m = { _id: 'n2', viewed: false };
    await assert.rejects(center.markRead(m));
    assert.equal(center.count, 1);
    assert.equal(m.viewed, false);
  });

  test('mark all read, and its rollback', async () => {
    rest.list = [{ _id: 'n1', viewed: false }, { _id: 'n2', viewed: false }];
    rest.count = 2;
    server.last.accept();
    await center.readList();
    rest.fail = true;
    await assert.rejects(center.markAllRead());
    assert.equal(center.count, 2);
    rest.fail = false;
    await center.markAllRead();
    assert.equal(center.count, 0);
    assert.ok(center.items.every((n) => n.viewed));
  });

  test('routes to the bells\' images', () => {
    const bell = new FakeBell('review/one', ['c1']);
    center.join(bell);
    assert.equal(center.route({ urlIdWS: 'review/one', conversationId: 'c1' }).target.bell, bell);
  });

  test('goes with its last bell: no longer watching, its calls dropped', () => {
    const bell = new FakeBell('review/one', []), other = new FakeBell('review/two', []);
    center.join(bell); center.join(other);
    center.leave(bell);
    assert.equal(rest.aborted, false);
    center.leave(other);
    assert.equal(rest.aborted, true);
    assert.equal(socket.watchers.size, 0);
    assert.notEqual(NotificationCenter.of(socket, () => new FakeRest()), center, 'a new one next time');
  });
});
