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
