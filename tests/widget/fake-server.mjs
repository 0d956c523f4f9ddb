// A fake of the live endpoint (docs/protocol.md) and of the page around a LiveSocket: the
// WebSocket class, the clock, the 'online'/'offline' events. Everything happens when the
// test says so (open, deliver, fire a timer), so each test reads as a script.

export class FakeServer {
  constructor() {
    this.logs = new Map(); // urlId -> {epoch, events: [...], trimmedBelow}
    this.connections = []; // every FakeWebSocket ever made, in order
    this.dropNext = null; // (event) => true: lose that frame on its way to the clients
    this.answers = []; // answers to join and resync, sent when the test calls flush()
  }

  flush() { this.answers.splice(0).forEach((answer) => answer()); }

  channel(urlId) {
    if (!this.logs.has(urlId)) this.logs.set(urlId, { epoch: 'e1', events: [], trimmedBelow: 0 });
    return this.logs.get(urlId);
  }

  // A logged event: numbered, kept, and sent to every connection watching its image.
  publish(urlId, fields) {
    const log = this.channel(urlId);
    const ev = Object.assign({ timestamp: 1, broadcastId: null }, fields, { seq: log.events.length + 1 });
    if (!('urlId' in fields)) ev.urlId = urlId;
    log.events.push(ev);
    if (this.dropNext && this.dropNext(ev)) { this.dropNext = null; return ev; }
    this.open().forEach((ws) => { if (ws.watching.has(urlId)) ws.deliver(ev); });
    return ev;
  }

  open() { return this.connections.filter((ws) => ws.readyState === 1); }

  get last() { return this.connections[this.connections.length - 1]; }

  // The server's answer to a join or resync with `since`: the missed events, then where the
  // channel stands, or `resync-required` when it cannot.
  resume(ws, urlId, since, epoch) {
    const log = this.channel(urlId);
    const head = log.events.length;
    const position = { urlId, seq: head, epoch: log.epoch };
    if ((epoch && epoch !== log.epoch) || since < log.trimmedBelow || since > head) {
      ws.deliver(Object.assign({ type: 'resync-required' }, position));
      return;
    }
    const missed = log.events.slice(since);
    if (missed.length) ws.deliver(missed);
    ws.deliver(Object.assign({ type: 'resumed' }, position));
  }

  received(ws, text) {
    const msg = JSON.parse(text);
    ws.sent.push(msg);
    if (msg.op === 'join' || msg.op === 'resync') {
      ws.watching.add(msg.urlId);
      if (msg.since != null) this.answers.push(() => this.resume(ws, msg.urlId, msg.since, msg.epoch));
    } else if (msg.op === 'leave') ws.watching.delete(msg.urlId);
  }
}

export function fakeEnv(server) {
  const clock = new FakeClock();
  const events = new FakeEvents();
  const env = { clock, events, online: true, random: () => 0, isOnline: () => env.online };
  env.WebSocket = class extends FakeWebSocket {
    constructor(url) { super(server, url); }
  };
  return env;
}

export class FakeWebSocket {
  constructor(server, url) {
    this.server = server;
    this.url = new URL(url);
    this.readyState = 0;
    this.sent = [];
    this.watching = new Set();
    this.closedWith = null;
    server.connections.push(this);
  }

  get query() { return Object.fromEntries(this.url.searchParams); }

  // The server admits the connection: it joins the image in the address and resumes it.
  accept() {
    this.readyState = 1;
    const q = this.query;
    this.watching.add(q.urlId);
    this.onopen({});
    if (q.since != null) this.server.resume(this, q.urlId, Number(q.since), q.epoch);
  }

  deliver(data) { this.onmessage({ data: JSON.stringify(data) }); }

  send(text) { this.server.received(this, text); }

  // Closed by the client.
  close(code) {
    this.readyState = 3;
    this.closedWith = code === undefined ? null : code;
    this.onclose({ code: code || 1005, reason: '' });
  }

  // Closed by the server.
  drop(code, reason) {
    this.readyState = 3;
    this.onclose({ code, reason: reason || '' });
  }
}

export class FakeClock {
  constructor() {
    this.timers = new Map();
    this.next = 1;
  }

  setTimeout(fn, ms) { const id = this.next++; this.timers.set(id, { fn, ms }); return id; }

  clearTimeout(id) { this.timers.delete(id); }

  delays() { return Array.from(this.timers.values(), (t) => t.ms); }

  // Run the earliest pending timer (as if its time had come).
  fire() {
    const [id, timer] = Array.from(this.timers).sort((a, b) => a[1].ms - b[1].ms)[0];
    this.timers.delete(id);
    timer.fn();
  }
}

export class FakeEvents {
  constructor() { this.listeners = new Map(); }

  addEventListener(type, fn) {
    if (!this.listeners.has(type)) this.listeners.set(type, new Set());
    this.listeners.get(type).add(fn);
  }

  removeEventListener(type, fn) { if (this.listeners.has(type)) this.listeners.get(type).delete(fn); }

  count() { let n = 0; this.listeners.forEach((s) => { n += s.size; }); return n; }

  fire(type) { (this.listeners.get(type) || new Set()).forEach((fn) => fn({ type })); }
}

// What a widget would be told, in order.
export class Recorder {
  constructor(socket) {
    this.socket = socket;
    this.calls = [];
  }

  connectionChanged() { this.calls.push('state:' + this.socket.state); }

  presence(count) { this.calls.push('presence:' + count); }

  live() { this.calls.push('live'); }

  stale() { this.calls.push('stale'); }

  event(ev) { this.calls.push(ev.type + ':' + ev.seq); }

  applied() { return this.calls.filter((c) => /:\d+$/.test(c) && !c.startsWith('presence')); }
}
