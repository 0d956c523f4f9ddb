// Every timer a part of the widget starts goes through one of these, so that destroy() can
// stop them all: a timer left behind would run against a widget that is gone.
export class Timers {
  constructor(clock = globalThis) {
    this.clock = clock;
    this.pending = new Set();
  }

  after(ms, fn) {
    const id = this.clock.setTimeout(() => { this.pending.delete(id); fn(); }, ms);
    this.pending.add(id);
    return id;
  }

  cancel(id) {
    if (!this.pending.delete(id)) return;
    this.clock.clearTimeout(id);
  }

  cancelAll() {
    this.pending.forEach((id) => this.clock.clearTimeout(id));
    this.pending.clear();
  }

  get size() { return this.pending.size; }
}
