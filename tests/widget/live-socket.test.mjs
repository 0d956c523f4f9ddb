// The widget's live socket against a fake server: order, gaps, resume, reconnects, close
// codes, which image an event is for, and leaving. Run: node --test tests/widget/*.test.mjs

import assert from 'node:assert/strict';
import { beforeEach, describe, test } from 'node:test';

import { CLOSE } from '../../src/imagechat/web/widget/close-codes.mjs';
import { newBroadcastId } from '../../src/imagechat/web/widget/ids.mjs';
import { LiveSocket, MAX_BACKOFF_MS, MIN_BACKOFF_MS, REFUSED } from '../../src/imagechat/web/widget/live-socket.mjs';
import { fakeEnv, FakeServer, Recorder } from './fake-server.mjs';

const HOST = 'https://chat.example.test';
let server, env, socket;

beforeEach(() => {
  server = new FakeServer();
  env = fakeEnv(server);
  socket = new LiveSocket(HOST, 'demo', null, env);
});

// An image watched from the list's position: `seq` events already read.
function watch(urlId, seq, extra) {
  const widget = new Recorder(socket);
  const position = Object.assign({ seq, epoch: server.channel(urlId).epoch, userId: 'v-1' }, extra);
  const channel = socket.join(urlId, position, widget);
  return { widget, channel };
}

function publishComments(urlId, n) {
  for (let i = 0; i < n; i++) server.publish(urlId, { type: 'new-comment', comment: { _id: 'c' + i, urlId: 'chat-1' } });
}

describe('connecting and resuming', () => {
  test('the address carries the image, the ids and the position of the list read', () => {
    publishComments('img', 3);
    watch('img', 3);
    const q = server.last.query;
    assert.equal(server.last.url.origin + server.last.url.pathname, 'wss://chat.example.test/sub');
    assert.deepEqual(q, { urlId: 'img', tenantIdWS: 'demo', userIdWS: 'v-1', batch: '1', since: '3', epoch: 'e1' });
    assert.equal(socket.state, 'connecting');
  });

  test('what was missed since the list read arrives in order before the image is live', () => {
    publishComments('img', 3);
    const { widget, channel } = watch('img', 1);
    server.last.accept();
    assert.deepEqual(widget.calls, ['state:connecting', 'state:open', 'new-comment:2', 'new-comment:3', 'live']);
    assert.equal(channel.seq, 3);
  });

  test('a server that is ahead of the client after resuming makes it read the list again', () => {
    publishComments('img', 2);
    const { widget, channel } = watch('img', 2);
    server.last.accept();
    server.last.deliver({ type: 'resumed', urlId: 'img', seq: 5, epoch: 'e1' });
    assert.equal(widget.calls.at(-1), 'stale');
    assert.equal(channel.seq, 2);
  });

  test('resync-required makes it read the list; events are dropped until the list is in', () => {
    const { widget, channel } = watch('img', 0);
    server.last.accept();
    server.last.deliver({ type: 'resync-required', urlId: 'img', seq: 9, epoch: 'e2' });
    assert.equal(widget.calls.at(-1), 'stale');
    assert.equal(channel.startReload(), true);
    assert.equal(channel.startReload(), false, 'one reload at a time');
    server.last.deliver({ type: 'new-comment', urlId: 'img', seq: 1 });
    channel.endReload({ seq: 9, epoch: 'e2' });
    server.last.deliver({ type: 'new-comment', urlId: 'img', seq: 9 });
    server.last.deliver({ type: 'new-comment', urlId: 'img', seq: 10 });
    assert.deepEqual(widget.applied(), ['new-comment:10']);
    assert.equal(channel.epoch, 'e2');
  });

  test('a failed reload lets events count again from where the image stood', () => {
    const { widget, channel } = watch('img', 4);
    server.last.accept();
    channel.startReload();
    channel.endReload(null);
    server.last.deliver({ type: 'new-comment', urlId: 'img', seq: 5 });
    assert.deepEqual(widget.applied(), ['new-comment:5']);
  });
});

describe('who is watching', () => {
  test('an anonymous viewer names itself on the handshake, so that its notifications come', () => {
    env.anonUserId = () => 'anon-42';
    const anon = new LiveSocket(HOST, 'demo', null, env);
    anon.join('img', { seq: 0, epoch: 'e1', userId: 'v-1' }, new Recorder(anon));
    assert.equal(server.last.query.anonUserId, 'anon-42');
    assert.equal(server.last.query.sso, undefined);
  });

  test('a signed-in one sends its token instead', () => {
    env.anonUserId = () => 'anon-42';
    const signed = new LiveSocket(HOST, 'demo', '{"userDataJSONBase64":"x"}', env);
    signed.join('img', { seq: 0, epoch: 'e1', userId: 'v-1' }, new Recorder(signed));
    assert.equal(server.last.query.sso, '{"userDataJSONBase64":"x"}');
    assert.equal(server.last.query.anonUserId, undefined);
  });

  test('the viewer\'s events and the state go to watchers, not to images', () => {
    const heard = [];
    const undo = socket.watch({ connectionChanged: () => heard.push('state:' + socket.state), notice: (ev) => heard.push(ev.type) });
    const { widget } = watch('img', 0);
    server.last.accept();
    server.last.deliver([{ type: 'notification', timestamp: 1, notification: { _id: 'n1' } }, { type: 'notification-update', timestamp: 2, count: 0 }]);
    assert.deepEqual(heard, ['state:connecting', 'state:open', 'notification', 'notification-update']);
    assert.deepEqual(widget.applied(), []);
    undo();
    server.last.deliver({ type: 'notification', timestamp: 3, notification: { _id: 'n2' } });
    assert.equal(heard.length, 4);
  });
});

describe('live events', () => {
  test('apply in seq order, once each, batched frames too', () => {
    const { widget } = watch('img', 0);
    server.last.accept();
    publishComments('img', 2);
    server.last.deliver([server.logs.get('img').events[1], { type: 'new-vote', urlId: 'img', seq: 3 }]);
    server.last.deliver({ type: 'new-comment', urlId: 'img', seq: 1 });
    assert.deepEqual(widget.applied(), ['new-comment:1', 'new-comment:2', 'new-vote:3']);
  });

  test('a gap is asked for once, and the replay fills it in order', () => {
    const { widget, channel } = watch('img', 0);
    server.last.accept();
    publishComments('img', 1);
    server.dropNext = (ev) => ev.seq === 2;
    publishComments('img', 3); // 2 is lost; 3 and 4 show the gap
    assert.deepEqual(widget.applied(), ['new-comment:1']);
    const resyncs = server.last.sent.filter((m) => m.op === 'resync');
    assert.deepEqual(resyncs, [{ op: 'resync', urlId: 'img', since: 1 }], 'asked once, from the last applied');
    server.flush();
    assert.deepEqual(widget.applied(), ['new-comment:1', 'new-comment:2', 'new-comment:3', 'new-comment:4']);
    assert.equal(widget.calls.at(-1), 'live');
    assert.equal(channel.seq, 4);
    assert.equal(channel.resyncing, false);
  });

  test('events after a gap wait for the replay instead of being applied early', () => {
    const { widget } = watch('img', 0);
    server.last.accept();
    server.last.deliver({ type: 'new-comment', urlId: 'img', seq: 3 });
    server.last.deliver({ type: 'new-comment', urlId: 'img', seq: 4 });
    assert.deepEqual(widget.applied(), []);
    assert.equal(server.last.sent.filter((m) => m.op === 'resync').length, 1);
  });

  test('echoes of our own writes move the position on but are not applied again', () => {
    const { widget, channel } = watch('img', 0);
    server.last.accept();
    server.publish('img', { type: 'new-comment', broadcastId: newBroadcastId(), comment: { _id: 'mine' } });
    server.publish('img', { type: 'new-comment', broadcastId: 'someone-else', comment: { _id: 'theirs' } });
    assert.deepEqual(widget.applied(), ['new-comment:2']);
    assert.equal(channel.seq, 2);
    assert.equal(server.last.sent.filter((m) => m.op === 'resync').length, 0);
  });

  test('presence reaches the image without touching its position', () => {
    const { widget, channel } = watch('img', 0);
    server.last.accept();
    server.last.deliver({ type: 'p-u', urlId: 'img', uj: ['a'], ul: [], sc: 2 });
    assert.equal(widget.calls.at(-1), 'presence:2');
    assert.equal(channel.seq, 0);
  });
});

describe('which image an event is for', () => {
  let a, b;
  beforeEach(() => {
    a = watch('img-a', 0);
    b = watch('img-b', 0);
    server.last.accept();
  });

  test('the event names its image', () => {
    server.last.deliver({ type: 'new-comment', urlId: 'img-b', seq: 1, comment: { _id: 'c', urlId: 'chat-x' } });
    assert.deepEqual(a.widget.applied(), []);
    assert.deepEqual(b.widget.applied(), ['new-comment:1']);
  });

  test('a marker whose urlId is its thread is placed by the event urlId, not as an image', () => {
    // The listing and events may name a conversation by its thread (windowUrlId).
    server.last.deliver({ type: 'new-image-chat', urlId: 'img-b', seq: 1, chat: { _id: 'k1', urlId: 'chat-k1', windowUrlId: 'chat-k1' } });
    assert.deepEqual(b.widget.applied(), ['new-image-chat:1']);
    assert.deepEqual(a.widget.applied(), []);
  });

  test('an event that names no image is placed by a thread the page has seen', () => {
    b.channel.track({ _id: 'k2', windowUrlId: 'chat-k2' });
    server.last.deliver({ type: 'new-comment', seq: 1, comment: { _id: 'c', urlId: 'chat-k2' } });
    server.last.deliver({ type: 'image-chat-updated', seq: 2, chat: { _id: 'k2', windowUrlId: 'chat-k2' } });
    assert.deepEqual(b.widget.applied(), ['new-comment:1', 'image-chat-updated:2']);
    assert.deepEqual(a.widget.applied(), []);
  });

  test('a conversation in an event is placed by its thread, which events name urlId', () => {
    a.channel.track({ _id: 'k3', windowUrlId: 'img-a::1:2' });
    server.last.deliver({ type: 'image-chat-updated', seq: 1, chat: { _id: 'other', urlId: 'img-a::1:2' } });
    assert.deepEqual(a.widget.applied(), ['image-chat-updated:1']);
    assert.deepEqual(b.widget.applied(), []);
  });

  test('late events of an image that was left go nowhere, even with one image left', () => {
    a.channel.track({ _id: 'k4', windowUrlId: 'chat-k4' });
    a.channel.leave();
    server.last.deliver({ type: 'new-comment', seq: 1, comment: { _id: 'd', urlId: 'chat-k4' } });
    server.last.deliver({ type: 'new-comment', urlId: 'img-a', seq: 1, comment: { _id: 'c', urlId: 'chat-k4' } });
    assert.deepEqual(a.widget.applied(), []);
    assert.deepEqual(b.widget.applied(), []);
  });
});

describe('reconnecting', () => {
  test('after a drop, each image resumes from what it applied', () => {
    const a = watch('img-a', 0);
    const b = watch('img-b', 0);
    server.last.accept();
    publishComments('img-a', 2);
    server.publish('img-b', { type: 'new-vote' });
    server.last.drop(CLOSE.GOING_AWAY);
    assert.equal(socket.state, 'down');
    assert.deepEqual(env.clock.delays(), [MIN_BACKOFF_MS / 2], 'the shortest back-off, jittered');
    publishComments('img-a', 1); // while nobody listens
    server.publish('img-b', { type: 'new-vote' });
    env.clock.fire();
    const second = server.last;
    assert.deepEqual([second.query.urlId, second.query.since, second.query.epoch], ['img-a', '2', 'e1']);
    second.accept();
    assert.deepEqual(second.sent, [{ op: 'join', urlId: 'img-b', since: 1, epoch: 'e1' }]);
    server.flush();
    assert.deepEqual(a.widget.applied(), ['new-comment:1', 'new-comment:2', 'new-comment:3']);
    assert.deepEqual(b.widget.applied(), ['new-vote:1', 'new-vote:2']);
    assert.equal(a.widget.calls.at(-1), 'live');
    assert.equal(b.widget.calls.at(-1), 'live');
  });

  test('the back-off doubles up to its longest and starts again once connected', () => {
    watch('img', 0);
    const waits = [];
    for (let i = 0; i < 7; i++) {
      server.last.drop(CLOSE.SERVER_ERROR);
      waits.push(...env.clock.delays());
      env.clock.fire();
    }
    assert.deepEqual(waits, [250, 500, 1000, 2000, 4000, 5000, 5000]);
    server.last.accept();
    server.last.drop(CLOSE.SLOW_CONSUMER);
    assert.deepEqual(env.clock.delays(), [MIN_BACKOFF_MS / 2]);
  });

  test('rate limited: the longest wait, even right after a successful connect', () => {
    watch('img', 0);
    server.last.accept();
    server.last.drop(CLOSE.RATE_LIMITED, 'Too many connection attempts; try again in 3 s.');
    assert.deepEqual(env.clock.delays(), [MAX_BACKOFF_MS / 2]);
  });

  for (const code of REFUSED) {
    test(`refused for good (${code}): says why and does not retry`, () => {
      const { widget } = watch('img', 0);
      server.last.drop(code, 'Origin not allowed');
      assert.equal(socket.state, 'refused');
      assert.equal(socket.refusal, 'Origin not allowed');
      assert.equal(widget.calls.at(-1), 'state:refused');
      assert.deepEqual(env.clock.delays(), []);
    });
  }

  test('the refusals are close codes the server has', () => {
    assert.deepEqual([...REFUSED].sort(), [CLOSE.UNAUTHENTICATED, CLOSE.ORIGIN_NOT_ALLOWED, CLOSE.TENANT_NOT_FOUND, CLOSE.TOO_MANY_CHANNELS].sort());
    for (const code of REFUSED) assert.equal(typeof code, 'number');
  });

  test('offline closes the socket and waits for online, which reconnects at once', () => {
    watch('img', 0);
    const first = server.last;
    first.accept();
    env.online = false;
    env.events.fire('offline');
    assert.equal(first.readyState, 3);
    assert.equal(socket.state, 'down');
    assert.equal(socket.down, true);
    assert.deepEqual(env.clock.delays(), []);
    env.online = true;
    env.events.fire('online');
    assert.notEqual(server.last, first);
    server.last.accept();
    assert.equal(socket.state, 'open');
    assert.equal(socket.down, false);
  });
});

describe('leaving', () => {
  test('one image leaves, the others keep the connection', () => {
    const a = watch('img-a', 0);
    const b = watch('img-b', 0);
    server.last.accept();
    a.channel.leave();
    assert.deepEqual(server.last.sent.at(-1), { op: 'leave', urlId: 'img-a' });
    server.publish('img-b', { type: 'new-vote' });
    assert.deepEqual(b.widget.applied(), ['new-vote:1']);
    assert.equal(server.last.readyState, 1);
  });

  test('the last one closes it, its listeners and timers go, and the page gets a new one next time', () => {
    const shared = LiveSocket.shared(HOST, 't2', null, env);
    assert.equal(LiveSocket.shared(HOST, 't2', null, env), shared);
    const listenersBefore = env.events.count();
    const ch = shared.join('img', { seq: 0 }, new Recorder(shared));
    const ws = server.last;
    ws.drop(CLOSE.SERVER_ERROR); // a reconnect timer is pending
    assert.equal(env.clock.delays().length, 1);
    ch.leave();
    assert.equal(env.clock.delays().length, 0);
    assert.equal(env.events.count(), listenersBefore - 2, "'online' and 'offline' removed");
    env.events.fire('online');
    assert.equal(server.last, ws, 'no reconnect after the last image left');
    const again = LiveSocket.shared(HOST, 't2', null, env);
    assert.notEqual(again, shared);
    again.join('img', { seq: 0 }, new Recorder(again));
    server.last.accept();
    again.channels.get('img').leave();
    assert.equal(server.last.closedWith, CLOSE.NORMAL);
  });
});
