// Small DOM helpers shared by the parts that draw.

export function el(tag, cls, attrs) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (attrs) Object.keys(attrs).forEach((k) => { if (attrs[k] != null) node.setAttribute(k, attrs[k]); });
  return node;
}

export function button(cls, text, label) {
  const b = el('button', cls, { type: 'button', 'aria-label': label || null });
  b.textContent = text;
  return b;
}

// Plain text of server-sanitized HTML, for announcements; a <template> never runs anything.
export function htmlToText(html) {
  const t = document.createElement('template');
  t.innerHTML = html || '';
  return (t.content.textContent || '').trim();
}

// A time as people read it: the hour today, else the day and the hour.
export function formatTime(iso, locale) {
  const d = new Date(iso);
  if (isNaN(d)) return '';
  const sameDay = d.toDateString() === new Date().toDateString();
  const opts = sameDay ? { hour: '2-digit', minute: '2-digit' } : { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' };
  try { return new Intl.DateTimeFormat(locale, opts).format(d); } catch (e) { return d.toLocaleString(); }
}

// A small icon drawn in the text's colour (emoji fonts are not everywhere), hidden from
// screen readers: the button it sits in has the words.
const ICONS = {
  bell: 'M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22zm7-6v-5a7 7 0 0 0-5.5-6.84V3.5a1.5 1.5 0 0 0-3 0v.66A7 7 0 0 0 5 11v5l-2 2v1h18v-1z'
};

export function icon(name) {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('class', 'ic-icon');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  const path = svg.appendChild(document.createElementNS(ns, 'path'));
  path.setAttribute('d', ICONS[name]);
  return svg;
}
