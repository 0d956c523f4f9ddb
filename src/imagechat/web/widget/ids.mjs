// Ids, and what the browser remembers between pages: the anonymous visitor's id and name,
// the edit keys of what it wrote anonymously, and the broadcast ids of this page's writes.

export function uuid() {
  const crypto = globalThis.crypto;
  if (crypto.randomUUID) return crypto.randomUUID();
  // randomUUID needs a secure context (https or localhost); a plain-http page has only this.
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return h.slice(0, 8) + '-' + h.slice(8, 12) + '-' + h.slice(12, 16) + '-' + h.slice(16, 20) + '-' + h.slice(20);
}

// localStorage may be unavailable (privacy modes); the widget then just forgets.
export const storage = {
  get(key, fallback) {
    try { const v = localStorage.getItem('imagechat:' + key); return v == null ? fallback : JSON.parse(v); } catch (e) { return fallback; }
  },
  set(key, value) { try { localStorage.setItem('imagechat:' + key, JSON.stringify(value)); } catch (e) { /* ignore */ } }
};

export function anonUserId() {
  let id = storage.get('anonUserId', null);
  if (!id) { id = 'anon-' + uuid(); storage.set('anonUserId', id); }
  return id;
}

// editKeys of what this browser created anonymously, by comment id or conversation id.
export function editKey(id) { return (storage.get('editKeys', {}) || {})[id] || null; }

export function rememberEditKey(ids, key) {
  if (!key) return;
  const keys = storage.get('editKeys', {}) || {};
  ids.forEach((id) => { keys[id] = key; });
  storage.set('editKeys', keys);
}

// Our own writes carry these ids; their echoes on the live socket are ignored, since the
// change is applied already. Shared by every image of the page, like the socket.
const OWN_BROADCASTS = new Set();

export function newBroadcastId() { const id = uuid(); OWN_BROADCASTS.add(id); return id; }

export function isOwnBroadcast(id) { return OWN_BROADCASTS.has(id); }
