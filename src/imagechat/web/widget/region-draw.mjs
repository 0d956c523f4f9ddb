// Drawing a region with the pointer: a press on the image that moves less than DRAG_PX
// stays a click (a point, as before); more, and it draws a rectangle (regions.mjs).

import { percentAt } from './markers.mjs';
import { outline, placeOutline, rectBetween } from './regions.mjs';

export const DRAG_PX = 6;

// Pointer drawing on the image. `onRegion(rect)` when a rectangle was drawn; the click
// that follows the press is swallowed then, so that it makes no point as well.
export class RegionDraw {
  constructor(wrap, img, onRegion) {
    this.wrap = wrap; this.img = img; this.onRegion = onRegion;
    this.start = null; this.draft = null; this.swallow = false;
    this.down = (e) => this.onDown(e);
    this.move = (e) => this.onMove(e);
    this.up = (e) => this.onUp(e);
    // A press on an image starts the browser's own drag of it otherwise.
    this.noDrag = (e) => { if (e.target === img) e.preventDefault(); };
    this.click = (e) => { if (this.swallow) { this.swallow = false; e.stopImmediatePropagation(); e.preventDefault(); } };
    wrap.addEventListener('pointerdown', this.down);
    wrap.addEventListener('dragstart', this.noDrag);
    wrap.addEventListener('click', this.click, true);
  }

  onDown(e) {
    if (e.target !== this.img || e.button !== 0 || !e.isPrimary) return;
    this.start = { cx: e.clientX, cy: e.clientY, pos: percentAt(this.img.getBoundingClientRect(), e.clientX, e.clientY) };
    this.swallow = false;
    addEventListener('pointermove', this.move);
    addEventListener('pointerup', this.up);
    addEventListener('pointercancel', this.up);
  }

  onMove(e) {
    const s = this.start;
    if (!s || (!this.draft && Math.hypot(e.clientX - s.cx, e.clientY - s.cy) < DRAG_PX)) return;
    e.preventDefault();
    const r = rectBetween(s.pos, percentAt(this.img.getBoundingClientRect(), e.clientX, e.clientY));
    if (!this.draft) this.draft = this.wrap.appendChild(outline('ic-draft'));
    this.draft.hidden = !r;
    if (r) placeOutline(this.draft, r);
  }

  onUp(e) {
    const s = this.start, drew = !!this.draft;
    this.stop();
    if (!s || !drew || e.type === 'pointercancel') return;
    this.swallow = true;
    const r = rectBetween(s.pos, percentAt(this.img.getBoundingClientRect(), e.clientX, e.clientY));
    if (r) this.onRegion(r);
  }

  stop() {
    this.start = null;
    if (this.draft) { this.draft.remove(); this.draft = null; }
    removeEventListener('pointermove', this.move);
    removeEventListener('pointerup', this.up);
    removeEventListener('pointercancel', this.up);
  }

  destroy() {
    this.stop();
    this.wrap.removeEventListener('pointerdown', this.down);
    this.wrap.removeEventListener('dragstart', this.noDrag);
    this.wrap.removeEventListener('click', this.click, true);
  }
}
