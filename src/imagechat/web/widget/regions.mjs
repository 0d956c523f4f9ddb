// Regions: a conversation anchored to a rectangle of the image rather than a point. Sent and
// stored in % of the image (`{shape: 'rect', x, y, w, h}`), drawn as outlines in % so they
// keep their place when the image is resized. A press on the image that moves less than
// DRAG_PX is a click (a point); more, and it draws a rectangle. By keyboard, the cross-hair
// is the corner and Shift+arrows size the rectangle from it (widget.mjs). Drawing with the
// pointer is region-draw.mjs.

import { el } from './dom.mjs';

export const MIN_REGION = 0.5; // % of each side, as the server asks
export const KEY_STEP = 2; // % per arrow key, as the cross-hair moves

const round = (v) => Math.round(v * 100) / 100;
const clamp = (v) => Math.min(100, Math.max(0, v));

// The rectangle between two points (in %), inside the image; null when a side is under
// the minimum (too small to be a region: the caller makes a point).
export function rectBetween(a, b) {
  const x = round(clamp(Math.min(a.x, b.x))), y = round(clamp(Math.min(a.y, b.y)));
  const w = round(Math.min(100 - x, clamp(Math.max(a.x, b.x)) - x));
  const h = round(Math.min(100 - y, clamp(Math.max(a.y, b.y)) - y));
  return w >= MIN_REGION && h >= MIN_REGION ? { shape: 'rect', x, y, w, h } : null;
}

// The keyboard's size after one Shift+arrow: it grows right and down from the corner,
// never past the image's edge, never below zero.
export function resized(corner, size, dx, dy) {
  return { w: round(Math.max(0, Math.min(100 - corner.x, size.w + dx))), h: round(Math.max(0, Math.min(100 - corner.y, size.h + dy))) };
}

// The CSS box of a region (percentages of the wrapper, which the image fills).
export function regionStyle(r) {
  return { left: r.x + '%', top: r.y + '%', width: r.w + '%', height: r.h + '%' };
}

export function contains(r, pos) {
  return !!r && pos.x >= r.x && pos.x <= r.x + r.w && pos.y >= r.y && pos.y <= r.y + r.h;
}

export function outline(cls) {
  return el('div', 'ic-region' + (cls ? ' ' + cls : ''), { 'aria-hidden': 'true' });
}

export function placeOutline(node, r) {
  const s = regionStyle(r);
  node.style.left = s.left; node.style.top = s.top; node.style.width = s.width; node.style.height = s.height;
}
