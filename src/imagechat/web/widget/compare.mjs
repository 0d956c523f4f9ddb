// The compare view: two versions of the image side by side, or one over the other with an
// opacity slider, each with its conversations' markers where they are on it (the list read with `version`).
// It shows the versions' thumbnails (small, made by the server), else their addresses.
// A dialog over the page (fixed, in the image's wrapper so it has its theme); Escape or its close button ends it and gives the focus back.
//
// `widget` gives t, opts, wrap, tools, markers, rest and versions (versions.mjs).

import { button, el } from './dom.mjs';
import { regionStyle } from './regions.mjs';

// Which two versions to compare first: the one before the shown one, and the shown one.
export function defaultPair(versions, shown) {
  const numbers = versions.map((v) => v.version);
  if (numbers.length < 2) return null;
  const right = numbers.includes(shown) ? shown : numbers[numbers.length - 1];
  const left = numbers.filter((n) => n < right).pop();
  return left == null ? [right, numbers.find((n) => n > right)] : [left, right];
}

export function compareSrc(v, host) {
  if (!v) return null;
  return v.thumbnail ? host + v.thumbnail : v.src;
}

export class CompareView {
  constructor(widget) {
    this.widget = widget;
    this.btn = null;
    this.root = null;
    this.mode = 'side';
    this.pair = null;
    this.opacity = 50;
  }

  render() {
    const w = this.widget;
    const wanted = w.opts.versions && w.versions.list.length > 1;
    if (!wanted) { if (this.btn) { this.btn.remove(); this.btn = null; } return; }
    if (this.btn) return;
    this.btn = button('ic-tool ic-compare-btn', w.t('compare'));
    this.btn.addEventListener('click', () => this.open());
    const after = w.tools.querySelector('.ic-versions');
    w.tools.insertBefore(this.btn, after ? after.nextSibling : w.tools.firstChild);
  }

  open() {
    const w = this.widget, t = w.t;
    this.close();
    this.pair = defaultPair(w.versions.list, w.versions.shown);
    if (!this.pair) return;
    const root = el('div', 'ic-compare', { role: 'dialog', 'aria-modal': 'true', 'aria-label': t('compareTitle') });
    const head = root.appendChild(el('div', 'ic-compare-head'));
    head.appendChild(el('h2', 'ic-title')).textContent = t('compareTitle');
    this.selects = [0, 1].map((side) => {
      const s = head.appendChild(el('select', 'ic-input ic-compare-pick', { 'aria-label': t(side ? 'compareRight' : 'compareLeft') }));
      w.versions.list.forEach((v) => { s.appendChild(el('option', null, { value: String(v.version) })).textContent = t('version', { n: v.version }); });
      s.value = String(this.pair[side]);
      s.addEventListener('change', () => { this.pair[side] = Number(s.value); this.draw(); });
      return s;
    });
    this.modeBtns = ['side', 'overlay'].map((mode) => {
      const b = head.appendChild(button('ic-btn ic-small ic-compare-mode', t(mode === 'side' ? 'compareSide' : 'compareOverlay')));
      b.dataset.mode = mode;
      b.addEventListener('click', () => { this.mode = mode; this.layout(); });
      return b;
    });
    this.slider = head.appendChild(el('input', 'ic-compare-opacity', { type: 'range', min: '0', max: '100', value: String(this.opacity), 'aria-label': t('compareOpacity') }));
    this.slider.addEventListener('input', () => { this.opacity = Number(this.slider.value); this.layout(); });
    const close = head.appendChild(button('ic-btn ic-close', '×', t('close')));
    close.addEventListener('click', () => this.close());
    this.stage = root.appendChild(el('div', 'ic-compare-stage'));
    this.panes = [0, 1].map(() => {
      const pane = this.stage.appendChild(el('figure', 'ic-compare-pane'));
      const box = pane.appendChild(el('div', 'ic-compare-box'));
      const img = box.appendChild(el('img', 'ic-compare-img', { alt: '' }));
      const caption = pane.appendChild(el('figcaption', 'ic-compare-caption'));
      return { pane, box, img, caption, marks: [] };
    });
    root.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') { e.stopPropagation(); this.close(); } else if (e.key === 'Tab') this.keepFocus(e);
    });
    w.wrap.appendChild(root); // inside the image's wrapper: its theme, removed with it
    this.root = root;
    this.layout();
    this.draw();
    close.focus();
  }

  // A modal dialog: Tab and Shift+Tab go round its controls, not out to the page.
  keepFocus(e) {
    const stops = Array.from(this.root.querySelectorAll('select, button, input')).filter((n) => !n.hidden);
    const first = stops[0], last = stops[stops.length - 1];
    if (e.shiftKey && document.activeElement === first) { e.preventDefault(); last.focus(); } else if (!e.shiftKey && document.activeElement === last) { e.preventDefault(); first.focus(); }
  }

  layout() {
    if (!this.root) return;
    this.root.classList.toggle('ic-overlay', this.mode === 'overlay');
    this.modeBtns.forEach((b) => b.setAttribute('aria-pressed', String(b.dataset.mode === this.mode)));
    this.slider.hidden = this.mode !== 'overlay';
    this.panes[1].pane.style.opacity = this.mode === 'overlay' ? String(this.opacity / 100) : '';
  }

  // Each side: its version's image, and the markers of the list read for it.
  draw() {
    const w = this.widget;
    this.panes.forEach(async (p, side) => {
      const n = this.pair[side];
      const v = w.versions.list.find((one) => one.version === n);
      p.img.src = compareSrc(v, w.opts.host) || '';
      p.img.alt = w.t('version', { n });
      p.caption.textContent = w.t('version', { n }) + (n === w.versions.latest ? ' · ' + w.t('latest') : '');
      p.marks.forEach((mark) => mark.remove());
      p.marks = [];
      let list;
      try { list = await w.rest.listConversations(w.opts.urlId, n); } catch (e) { p.caption.textContent += ' · ' + w.t('errLoad', { reason: e.message }); return; }
      if (!this.root || this.pair[side] !== n) return;
      (list.conversations || []).forEach((c) => p.marks.push(...this.mark(p.box, c)));
    });
  }

  mark(box, c) {
    const w = this.widget, made = [];
    if (c.region) {
      const r = box.appendChild(el('div', 'ic-region', { 'aria-hidden': 'true' }));
      Object.assign(r.style, regionStyle(c.region));
      made.push(r);
    }
    const dot = box.appendChild(el('span', 'ic-compare-marker' + (c.carry && c.carry !== 'origin' ? ' ic-carry-' + c.carry : '') + (c.resolved ? ' ic-resolved' : '')));
    dot.style.left = c.x + '%'; dot.style.top = c.y + '%';
    dot.textContent = String(w.markers.index(c._id) || '•');
    dot.dataset.id = c._id;
    made.push(dot);
    return made;
  }

  close() {
    if (!this.root) return;
    this.root.remove();
    this.root = null;
    if (this.btn) this.btn.focus();
  }

  destroy() { this.close(); if (this.btn) this.btn.remove(); }
}
