/*!
 * ImageChat widget: markers and live conversations on any image.
 * Framework-free, no build step. Served as /js/embed-image-chat.min.js.
 * Usage: ImageChat(imgOrContainer, {tenantId: 'demo'}) (alias: FastCommentsImageChat).
 */
(function () {
  'use strict';

  // document.currentScript is only set while this file runs, so the default host is
  // captured now: the widget talks to the server it was loaded from.
  const SCRIPT = document.currentScript;
  const DEFAULT_HOST = SCRIPT && SCRIPT.src ? new URL(SCRIPT.src, location.href).origin : location.origin;

  const ARROW = 16; // px between marker and window, filled by the arrow
  const WIN_W = 300;
  const FULLSCREEN_BELOW = 768;
  const MIN_BACKOFF = 500;
  const MAX_BACKOFF = 10000;
  // Close codes after which reconnecting cannot help (see docs/protocol.md).
  const FATAL_CLOSE = new Set([4401, 4403, 4404, 4413]);

  // ---------------------------------------------------------------- translations
  const STRINGS = {
    en: {
      wrap: 'Image with conversations: {alt}. Click a spot, or move the cross-hair with the arrow keys and press Enter, to start a conversation.',
      marker: 'Conversation {n}, messages: {c}', pending: 'New conversation (not sent yet)',
      dialog: 'Conversation {n}', newDialog: 'New conversation', close: 'Close', messages: 'Messages',
      message: 'Message', placeholder: 'Write a message…', name: 'Your name', send: 'Send',
      sending: 'Sending…', edit: 'Edit', save: 'Save', cancel: 'Cancel', del: 'Delete',
      delChat: 'Delete conversation', reply: 'Reply', replyingTo: 'Replying to {name}',
      loading: 'Loading…', empty: 'No messages yet. Write the first one.', offline: 'Offline',
      reconnecting: 'Reconnecting…', unavailable: 'Live updates are unavailable: {reason}',
      refused: 'You are offline: nothing was sent. Try again when the connection is back.',
      errSend: 'Your message could not be sent: {reason}', errEdit: 'Your change could not be saved: {reason}',
      errDel: 'Could not delete: {reason}', errLoad: 'Could not load the messages: {reason}',
      needName: 'Please enter your name first.', viewing: '{n} viewing',
      announce: 'New message from {name}: {text}', removed: 'A conversation was deleted.',
      readonly: 'This image is read-only.', network: 'network error', editLabel: 'Edit your message',
      lock: 'Lock image', unlock: 'Unlock image', lockedMod: 'Locked: only moderators can write.', locked: 'This image was locked: it is read-only now.', unlocked: 'This image is open for messages again.', ban: 'Ban', banConfirm: 'Confirm ban', banned: '{name} can no longer write here.', errMod: 'Moderation failed: {reason}'
    },
    pl: {
      wrap: 'Obraz z rozmowami: {alt}. Kliknij wybrane miejsce albo przesuń celownik strzałkami i naciśnij Enter, aby rozpocząć rozmowę.',
      marker: 'Rozmowa {n}, wiadomości: {c}', pending: 'Nowa rozmowa (jeszcze niewysłana)',
      dialog: 'Rozmowa {n}', newDialog: 'Nowa rozmowa', close: 'Zamknij', messages: 'Wiadomości',
      message: 'Wiadomość', placeholder: 'Napisz wiadomość…', name: 'Twoje imię', send: 'Wyślij',
      sending: 'Wysyłanie…', edit: 'Edytuj', save: 'Zapisz', cancel: 'Anuluj', del: 'Usuń',
      delChat: 'Usuń rozmowę', reply: 'Odpowiedz', replyingTo: 'Odpowiedź dla: {name}',
      loading: 'Ładowanie…', empty: 'Brak wiadomości. Napisz pierwszą.', offline: 'Brak połączenia',
      reconnecting: 'Ponowne łączenie…', unavailable: 'Aktualizacje na żywo są niedostępne: {reason}',
      refused: 'Brak połączenia: nic nie zostało wysłane. Spróbuj ponownie, gdy połączenie wróci.',
      errSend: 'Nie udało się wysłać wiadomości: {reason}', errEdit: 'Nie udało się zapisać zmiany: {reason}',
      errDel: 'Nie udało się usunąć: {reason}', errLoad: 'Nie udało się wczytać wiadomości: {reason}',
      needName: 'Najpierw wpisz swoje imię.', viewing: 'Oglądający: {n}',
      announce: 'Nowa wiadomość od {name}: {text}', removed: 'Rozmowa została usunięta.',
      readonly: 'Ten obraz jest tylko do odczytu.', network: 'błąd sieci', editLabel: 'Edytuj swoją wiadomość',
      lock: 'Zablokuj obraz', unlock: 'Odblokuj obraz', lockedMod: 'Zablokowany: piszą tylko moderatorzy.', locked: 'Obraz został zablokowany: jest tylko do odczytu.', unlocked: 'Obraz znów przyjmuje wiadomości.', ban: 'Zablokuj autora', banConfirm: 'Potwierdź blokadę', banned: '{name} nie może już tu pisać.', errMod: 'Moderacja nie powiodła się: {reason}'
    },
    de: {
      wrap: 'Bild mit Unterhaltungen: {alt}. Klicken Sie auf eine Stelle oder bewegen Sie das Fadenkreuz mit den Pfeiltasten und drücken Sie Enter, um eine Unterhaltung zu beginnen.',
      marker: 'Unterhaltung {n}, Nachrichten: {c}', pending: 'Neue Unterhaltung (noch nicht gesendet)',
      dialog: 'Unterhaltung {n}', newDialog: 'Neue Unterhaltung', close: 'Schließen', messages: 'Nachrichten',
      message: 'Nachricht', placeholder: 'Nachricht schreiben…', name: 'Ihr Name', send: 'Senden',
      sending: 'Wird gesendet…', edit: 'Bearbeiten', save: 'Speichern', cancel: 'Abbrechen', del: 'Löschen',
      delChat: 'Unterhaltung löschen', reply: 'Antworten', replyingTo: 'Antwort an {name}',
      loading: 'Wird geladen…', empty: 'Noch keine Nachrichten. Schreiben Sie die erste.', offline: 'Offline',
      reconnecting: 'Verbindung wird wiederhergestellt…', unavailable: 'Live-Aktualisierungen sind nicht verfügbar: {reason}',
      refused: 'Sie sind offline: Es wurde nichts gesendet. Versuchen Sie es erneut, wenn die Verbindung wieder besteht.',
      errSend: 'Ihre Nachricht konnte nicht gesendet werden: {reason}', errEdit: 'Ihre Änderung konnte nicht gespeichert werden: {reason}',
      errDel: 'Löschen fehlgeschlagen: {reason}', errLoad: 'Die Nachrichten konnten nicht geladen werden: {reason}',
      needName: 'Bitte geben Sie zuerst Ihren Namen ein.', viewing: '{n} sehen zu',
      announce: 'Neue Nachricht von {name}: {text}', removed: 'Eine Unterhaltung wurde gelöscht.',
      readonly: 'Dieses Bild ist schreibgeschützt.', network: 'Netzwerkfehler', editLabel: 'Ihre Nachricht bearbeiten',
      lock: 'Bild sperren', unlock: 'Bild entsperren', lockedMod: 'Gesperrt: nur Moderatoren können schreiben.', locked: 'Dieses Bild wurde gesperrt: es ist jetzt schreibgeschützt.', unlocked: 'Dieses Bild ist wieder für Nachrichten offen.', ban: 'Sperren', banConfirm: 'Sperre bestätigen', banned: '{name} kann hier nicht mehr schreiben.', errMod: 'Moderation fehlgeschlagen: {reason}'
    },
    es: {
      wrap: 'Imagen con conversaciones: {alt}. Haz clic en un punto, o mueve la cruz con las flechas y pulsa Enter, para iniciar una conversación.',
      marker: 'Conversación {n}, mensajes: {c}', pending: 'Nueva conversación (aún no enviada)',
      dialog: 'Conversación {n}', newDialog: 'Nueva conversación', close: 'Cerrar', messages: 'Mensajes',
      message: 'Mensaje', placeholder: 'Escribe un mensaje…', name: 'Tu nombre', send: 'Enviar',
      sending: 'Enviando…', edit: 'Editar', save: 'Guardar', cancel: 'Cancelar', del: 'Eliminar',
      delChat: 'Eliminar conversación', reply: 'Responder', replyingTo: 'Respondiendo a {name}',
      loading: 'Cargando…', empty: 'Aún no hay mensajes. Escribe el primero.', offline: 'Sin conexión',
      reconnecting: 'Reconectando…', unavailable: 'Las actualizaciones en vivo no están disponibles: {reason}',
      refused: 'Estás sin conexión: no se envió nada. Inténtalo de nuevo cuando vuelva la conexión.',
      errSend: 'No se pudo enviar tu mensaje: {reason}', errEdit: 'No se pudo guardar el cambio: {reason}',
      errDel: 'No se pudo eliminar: {reason}', errLoad: 'No se pudieron cargar los mensajes: {reason}',
      needName: 'Primero escribe tu nombre.', viewing: '{n} viendo',
      announce: 'Nuevo mensaje de {name}: {text}', removed: 'Se eliminó una conversación.',
      readonly: 'Esta imagen es de solo lectura.', network: 'error de red', editLabel: 'Edita tu mensaje',
      lock: 'Bloquear imagen', unlock: 'Desbloquear imagen', lockedMod: 'Bloqueada: solo los moderadores pueden escribir.', locked: 'Esta imagen se ha bloqueado: ahora es de solo lectura.', unlocked: 'Esta imagen vuelve a aceptar mensajes.', ban: 'Bloquear autor', banConfirm: 'Confirmar bloqueo', banned: '{name} ya no puede escribir aquí.', errMod: 'La moderación falló: {reason}'
    },
    fr: {
      wrap: 'Image avec conversations : {alt}. Cliquez sur un point, ou déplacez le viseur avec les flèches et appuyez sur Entrée, pour lancer une conversation.',
      marker: 'Conversation {n}, messages : {c}', pending: 'Nouvelle conversation (pas encore envoyée)',
      dialog: 'Conversation {n}', newDialog: 'Nouvelle conversation', close: 'Fermer', messages: 'Messages',
      message: 'Message', placeholder: 'Écrire un message…', name: 'Votre nom', send: 'Envoyer',
      sending: 'Envoi…', edit: 'Modifier', save: 'Enregistrer', cancel: 'Annuler', del: 'Supprimer',
      delChat: 'Supprimer la conversation', reply: 'Répondre', replyingTo: 'Réponse à {name}',
      loading: 'Chargement…', empty: 'Aucun message pour l’instant. Écrivez le premier.', offline: 'Hors ligne',
      reconnecting: 'Reconnexion…', unavailable: 'Les mises à jour en direct sont indisponibles : {reason}',
      refused: 'Vous êtes hors ligne : rien n’a été envoyé. Réessayez quand la connexion sera rétablie.',
      errSend: 'Votre message n’a pas pu être envoyé : {reason}', errEdit: 'Votre modification n’a pas pu être enregistrée : {reason}',
      errDel: 'Suppression impossible : {reason}', errLoad: 'Impossible de charger les messages : {reason}',
      needName: 'Veuillez d’abord saisir votre nom.', viewing: '{n} personne(s) regardent',
      announce: 'Nouveau message de {name} : {text}', removed: 'Une conversation a été supprimée.',
      readonly: 'Cette image est en lecture seule.', network: 'erreur réseau', editLabel: 'Modifier votre message',
      lock: 'Verrouiller l’image', unlock: 'Déverrouiller l’image', lockedMod: 'Verrouillée : seuls les modérateurs peuvent écrire.', locked: 'Cette image a été verrouillée : elle est en lecture seule.', unlocked: 'Cette image accepte de nouveau les messages.', ban: 'Bannir', banConfirm: 'Confirmer le bannissement', banned: '{name} ne peut plus écrire ici.', errMod: 'La modération a échoué : {reason}'
    }
  };

  function translator(locale) {
    const lang = String(locale || navigator.language || 'en').toLowerCase().slice(0, 2);
    const table = STRINGS[lang] || STRINGS.en;
    return (key, vars) => String(table[key] || STRINGS.en[key] || key)
      .replace(/\{(\w+)\}/g, (_, k) => (vars && vars[k] != null ? vars[k] : ''));
  }

  // ---------------------------------------------------------------- small helpers
  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    const b = new Uint8Array(16);
    (window.crypto || window.msCrypto).getRandomValues(b);
    b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
    return h.slice(0, 8) + '-' + h.slice(8, 12) + '-' + h.slice(12, 16) + '-' + h.slice(16, 20) + '-' + h.slice(20);
  }

  // localStorage may be unavailable (privacy modes); the widget then just forgets.
  const store = {
    get(key, fallback) {
      try { const v = localStorage.getItem('imagechat:' + key); return v == null ? fallback : JSON.parse(v); } catch (e) { return fallback; }
    },
    set(key, value) { try { localStorage.setItem('imagechat:' + key, JSON.stringify(value)); } catch (e) { /* ignore */ } }
  };

  function anonUserId() {
    let id = store.get('anonUserId', null);
    if (!id) { id = 'anon-' + uuid(); store.set('anonUserId', id); }
    return id;
  }

  // editKeys of what this browser created anonymously, by comment id or chat id.
  function editKey(id) { return (store.get('editKeys', {}) || {})[id] || null; }
  function rememberEditKey(ids, key) {
    if (!key) return;
    const keys = store.get('editKeys', {}) || {};
    ids.forEach((id) => { keys[id] = key; });
    store.set('editKeys', keys);
  }

  function el(tag, cls, attrs) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (attrs) Object.keys(attrs).forEach((k) => { if (attrs[k] != null) node.setAttribute(k, attrs[k]); });
    return node;
  }

  function button(cls, text, label) {
    const b = el('button', cls, { type: 'button', 'aria-label': label || null });
    b.textContent = text;
    return b;
  }

  // Plain text of server-sanitized HTML, for announcements; a <template> never runs anything.
  function htmlToText(html) {
    const t = document.createElement('template');
    t.innerHTML = html || '';
    return (t.content.textContent || '').trim();
  }

  // Our own writes carry these ids; their echoes on the socket are ignored (already applied).
  const OWN_BROADCASTS = new Set();
  function broadcastId() { const id = uuid(); OWN_BROADCASTS.add(id); return id; }

  // chat id / windowUrlId -> channel urlId, never pruned: late events of a deleted chat
  // must still count towards their channel's seq.
  const CHAT_CHANNEL = new Map();

  // ---------------------------------------------------------------- the shared socket
  // One WebSocket per page (per server, tenant and SSO identity), shared by every image.
  const HUBS = new Map();

  class Hub {
    constructor(host, tenantId, sso) {
      this.host = host; this.tenantId = tenantId; this.sso = sso;
      this.channels = new Map(); // urlIdWS -> {urlId, seq, epoch, widget, resyncing, reloading}
      this.ws = null; this.state = 'idle'; this.attempt = 0; this.timer = 0; this.userId = '';
      addEventListener('offline', () => this.goOffline());
      addEventListener('online', () => { this.attempt = 0; this.connect(); });
    }

    static for(host, tenantId, sso) {
      const key = host + '|' + tenantId + '|' + (sso || '');
      if (!HUBS.has(key)) HUBS.set(key, new Hub(host, tenantId, sso));
      return HUBS.get(key);
    }

    // Writes are refused at once when the page is offline or the socket is lost.
    get down() { return !navigator.onLine || this.state === 'down'; }

    add(widget, list) {
      const ch = { urlId: list.urlIdWS, seq: list.seq || 0, epoch: list.epoch || '', widget, resyncing: false, reloading: false };
      this.channels.set(ch.urlId, ch);
      if (!this.userId) this.userId = list.userIdWS || '';
      if (this.ws && this.state === 'open') this.join(ch);
      else if (!this.ws) this.connect();
      return ch;
    }

    join(ch) { this.send(Object.assign({ op: 'join', urlId: ch.urlId, since: ch.seq }, ch.epoch ? { epoch: ch.epoch } : {})); }

    send(msg) { if (this.ws && this.ws.readyState === 1) this.ws.send(JSON.stringify(msg)); }

    setState(state) {
      this.state = state;
      this.channels.forEach((ch) => ch.widget.onConnection());
    }

    connect() {
      clearTimeout(this.timer);
      if (this.ws || !this.channels.size) return;
      if (!navigator.onLine) { this.setState('down'); return; }
      const first = this.channels.values().next().value;
      const q = new URLSearchParams({ urlId: first.urlId, tenantIdWS: this.tenantId, userIdWS: this.userId, batch: '1', since: String(first.seq) });
      if (first.epoch) q.set('epoch', first.epoch);
      if (this.sso) q.set('sso', this.sso);
      const ws = new WebSocket(this.host.replace(/^http/, 'ws') + '/sub?' + q);
      this.ws = ws;
      if (this.state === 'idle') this.setState('connecting');
      ws.onopen = () => {
        if (this.ws !== ws) return;
        this.attempt = 0;
        this.channels.forEach((ch) => { if (ch !== first) this.join(ch); });
        this.setState('open');
      };
      ws.onmessage = (e) => {
        if (this.ws !== ws) return;
        let data;
        try { data = JSON.parse(e.data); } catch (err) { return; }
        (Array.isArray(data) ? data : [data]).forEach((ev) => this.dispatch(ev));
      };
      ws.onclose = (e) => {
        if (this.ws !== ws) return;
        this.ws = null;
        // The server refused us for good (unknown site, origin not allowed, bad sign-in):
        // say why instead of retrying forever.
        if (FATAL_CLOSE.has(e.code)) {
          this.refusal = e.reason || String(e.code);
          this.setState('refused');
          return;
        }
        this.setState('down');
        this.retryLater();
      };
    }

    // Jittered exponential back-off, so a restarted server is not hit by everyone at once.
    retryLater() {
      if (!navigator.onLine) return; // the 'online' event reconnects
      const base = Math.min(MAX_BACKOFF, MIN_BACKOFF * Math.pow(2, this.attempt++));
      this.timer = setTimeout(() => this.connect(), base * (0.5 + Math.random() / 2));
    }

    goOffline() {
      clearTimeout(this.timer);
      const ws = this.ws;
      this.ws = null;
      if (ws) ws.close();
      this.setState('down');
    }

    channelOf(ev) {
      let key = ev.urlId;
      const obj = ev.chat || ev.comment || ev.vote;
      if (!this.channels.has(key) && obj) {
        key = (ev.chat && this.channels.has(ev.chat.urlId)) ? ev.chat.urlId
          : CHAT_CHANNEL.get(obj.chatId || obj._id) || CHAT_CHANNEL.get(obj.urlId);
      }
      // Events of comments carry no image urlId; with one image on the page there is no doubt.
      if (!this.channels.has(key) && this.channels.size === 1) return this.channels.values().next().value;
      return this.channels.get(key) || null;
    }

    dispatch(ev) {
      if (!ev || typeof ev !== 'object') return;
      const ch = this.channelOf(ev);
      if (!ch) return;
      if (ev.type === 'p-u') { ch.widget.presence(ev.sc); return; }
      if (ev.type === 'resumed') {
        ch.resyncing = false;
        if (ev.epoch) ch.epoch = ev.epoch;
        // The server is ahead of what we applied: something was dropped, read the state again.
        if (ev.seq > ch.seq) ch.widget.reload(); else ch.widget.setLive(true);
        return;
      }
      if (ev.type === 'resync-required') { ch.resyncing = false; ch.widget.reload(); return; }
      if (typeof ev.seq === 'number') {
        if (ch.reloading || ev.seq <= ch.seq) return; // already in the state we hold
        if (ev.seq > ch.seq + 1) { // a gap: ask for it once, the answer replays in order
          if (!ch.resyncing) { ch.resyncing = true; this.send({ op: 'resync', urlId: ch.urlId, since: ch.seq }); }
          return;
        }
        ch.seq = ev.seq;
      }
      if (ev.broadcastId && OWN_BROADCASTS.has(ev.broadcastId)) return;
      ch.widget.apply(ev);
    }
  }

  // ---------------------------------------------------------------- one image
  class Widget {
    constructor(target, config) {
      const img = target && target.tagName === 'IMG' ? target : target && target.querySelector('img');
      if (!img) throw new Error('ImageChat: the target must be an <img> or contain one.');
      if (!config || !config.tenantId) throw new Error('ImageChat: config.tenantId is required.');
      this.img = img;
      this.cfg = config;
      this.t = translator(config.locale);
      this.locale = String(config.locale || navigator.language || 'en');
      this.host = String(config.host || DEFAULT_HOST).replace(/\/+$/, '');
      this.urlId = config.urlId || location.origin + location.pathname + '#' + (img.getAttribute('src') || '');
      this.sso = config.sso == null ? null : (typeof config.sso === 'string' ? config.sso : JSON.stringify(config.sso));
      // Read-only by the page's choice, or locked by a moderator (moderators still write).
      this.cfgReadonly = !!config.readonly;
      this.readonly = this.cfgReadonly;
      this.locked = false;
      this.maxDepth = Math.max(0, config.maxReplyDepth | 0);
      this.chats = new Map(); // id -> {data, marker}
      this.win = null; // the one open chat window
      this.pending = null; // a placed marker whose first message is not sent yet
      this.cross = { x: 50, y: 50 };
      this.user = null;
      this.lastCount = null;
      this.build();
      this.load();
    }

    // -- DOM scaffolding: the image gets a relatively positioned wrapper sized by the image.
    build() {
      const img = this.img;
      const wrap = el('div', 'ic-wrap', { tabindex: '0', role: 'group' });
      if (getComputedStyle(img).display === 'block') wrap.classList.add('ic-block');
      img.parentNode.insertBefore(wrap, img);
      wrap.appendChild(img);
      wrap.setAttribute('aria-label', this.t('wrap', { alt: img.alt || '' }));
      wrap.style.setProperty('--ic-size', String(Number(this.cfg.chatSquarePercentage) || 5));
      this.wrap = wrap;
      this.crossEl = wrap.appendChild(el('div', 'ic-cross', { 'aria-hidden': 'true' }));
      this.banner = wrap.appendChild(el('div', 'ic-banner', { role: 'status', hidden: '' }));
      this.presenceEl = wrap.appendChild(el('div', 'ic-presence', { hidden: '' }));
      this.toastEl = wrap.appendChild(el('div', 'ic-toast ic-error', { role: 'alert', hidden: '' }));
      this.live = wrap.appendChild(el('div', 'ic-sr', { 'aria-live': 'polite' }));
      this.moveCross(0, 0);

      wrap.addEventListener('click', (e) => { if (e.target === img) this.placeAt(this.percentAt(e)); });
      wrap.addEventListener('keydown', (e) => this.onWrapKey(e));
      // Marker positions are percentages (pure CSS); only the open window needs placing again.
      this.resizeObs = new ResizeObserver(() => this.placeWindow());
      this.resizeObs.observe(img);
      this.resizeObs.observe(document.documentElement);
      this.updateDark();
      new MutationObserver(() => this.updateDark()).observe(document.body, { attributes: true, attributeFilter: ['class'] });
    }

    updateDark() {
      this.wrap.classList.toggle('ic-dark', !!this.cfg.hasDarkBackground || document.body.classList.contains('dark'));
    }

    percentAt(e) {
      const r = this.img.getBoundingClientRect();
      const clamp = (v) => Math.round(Math.min(100, Math.max(0, v)) * 100) / 100;
      return { x: clamp((e.clientX - r.left) / r.width * 100), y: clamp((e.clientY - r.top) / r.height * 100) };
    }

    // -- keyboard placement: arrows move a cross-hair, Enter places, Escape cancels.
    onWrapKey(e) {
      if (e.target !== this.wrap) return;
      const step = e.shiftKey ? 10 : 2;
      const moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
      if (moves[e.key]) { e.preventDefault(); this.moveCross(moves[e.key][0], moves[e.key][1]); } else if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); this.placeAt({ x: this.cross.x, y: this.cross.y }); } else if (e.key === 'Escape') { this.closeWindow(); }
    }

    moveCross(dx, dy) {
      const c = this.cross;
      c.x = Math.min(100, Math.max(0, c.x + dx)); c.y = Math.min(100, Math.max(0, c.y + dy));
      this.crossEl.style.left = c.x + '%'; this.crossEl.style.top = c.y + '%';
    }

    // -- REST
    async api(method, path, query, body) {
      const q = new URLSearchParams();
      Object.keys(query || {}).forEach((k) => { if (query[k] != null) q.set(k, query[k]); });
      if (this.sso) q.set('sso', this.sso); else q.set('anonUserId', anonUserId());
      let res;
      try {
        res = await fetch(this.host + path + '?' + q, {
          method, headers: body ? { 'Content-Type': 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined
        });
      } catch (e) { throw new Error(this.t('network')); }
      let data = null;
      try { data = await res.json(); } catch (e) { /* not JSON */ }
      if (!res.ok || !data || data.status !== 'success') throw new Error((data && data.reason) || 'HTTP ' + res.status);
      return data;
    }

    tenantPath(rest) { return '/' + rest + '/' + encodeURIComponent(this.cfg.tenantId); }

    async fetchList() {
      return this.api('GET', this.tenantPath('comment-image-chats'), { urlId: this.urlId });
    }

    async load() {
      let list;
      try { list = await this.fetchList(); } catch (e) {
        this.toast(this.t('errLoad', { reason: e.message }));
        setTimeout(() => this.load(), 3000 + Math.random() * 2000);
        return;
      }
      this.takeList(list);
      this.hub = Hub.for(this.host, list.tenantIdWS || this.cfg.tenantId, this.sso);
      this.channel = this.hub.add(this, list);
      this.onConnection();
    }

    takeList(list) {
      this.user = list.user || null;
      this.setLocked(!!list.locked, false);
      this.channelKey = list.urlIdWS;
      const seen = new Set();
      (list.conversations || []).forEach((c) => { seen.add(c._id); this.upsertChat(c); });
      Array.from(this.chats.keys()).forEach((id) => { if (!seen.has(id)) this.removeChat(id); });
    }

    // Full reload after `resync-required` (or when the socket says we lag): the list is the truth.
    async reload() {
      const ch = this.channel;
      if (ch.reloading) return;
      ch.reloading = true;
      try {
        const list = await this.fetchList();
        this.takeList(list);
        ch.seq = list.seq || 0; ch.epoch = list.epoch || '';
        if (this.win && this.win.chatId) this.loadComments();
      } catch (e) {
        ch.reloading = false;
        setTimeout(() => this.reload(), 2000);
        return;
      }
      ch.reloading = false;
      this.setLive(true);
    }

    // -- connection state: banner, and a data attribute tests and styles can rely on.
    onConnection() {
      if (!this.hub) return;
      const state = this.hub.state;
      const text = !navigator.onLine ? this.t('offline')
        : state === 'refused' ? this.t('unavailable', { reason: this.hub.refusal })
          : state === 'down' ? this.t('reconnecting') : '';
      this.banner.textContent = text;
      this.banner.hidden = !text;
      this.wrap.classList.toggle('ic-offline', !!text);
      if (state !== 'open') this.setLive(false);
    }

    setLive(on) {
      if (on && this.hub && this.hub.state === 'open') this.wrap.setAttribute('data-live', '');
      else this.wrap.removeAttribute('data-live');
    }

    presence(count) {
      const n = Number(count) || 0;
      this.presenceEl.textContent = this.t('viewing', { n });
      this.presenceEl.hidden = n < 1;
    }

    announce(text) {
      // Re-setting the text makes screen readers read it even when it repeats.
      this.live.textContent = '';
      setTimeout(() => { this.live.textContent = text; }, 50);
    }

    toast(text) {
      this.toastEl.textContent = text;
      this.toastEl.hidden = false;
      clearTimeout(this.toastTimer);
      this.toastTimer = setTimeout(() => { this.toastEl.hidden = true; }, 6000);
    }

    // Errors go next to the composer when a window is open, else to a toast on the image.
    error(text) {
      if (this.win) { this.win.error.textContent = text; this.win.error.hidden = false; } else this.toast(text);
    }

    refuseIfDown() {
      if (!this.hub || !this.hub.down) return false;
      this.error(this.t('refused'));
      return true;
    }

    // -- permissions
    setLocked(locked, announce) {
      const changed = this.locked !== locked;
      this.locked = locked;
      const readonly = this.cfgReadonly || (locked && !this.isModerator());
      const flip = readonly !== this.readonly;
      this.readonly = readonly;
      this.renderModBar();
      if (announce && changed) this.announce(this.t(locked ? 'locked' : 'unlocked'));
      if (!flip) return;
      // Rebuild the open window: its composer and actions depend on read-only.
      if (this.win && this.win.chatId) this.openWindow(this.win.chatId); else if (readonly) this.closeWindow(true);
    }

    // Moderators and admins get a lock switch on the image itself.
    renderModBar() {
      if (!this.isModerator()) { if (this.modBar) { this.modBar.remove(); this.modBar = null; } return; }
      if (!this.modBar) {
        this.modBar = this.wrap.insertBefore(el('div', 'ic-modbar'), this.banner);
        this.lockNote = this.modBar.appendChild(el('span', 'ic-lock-note'));
        this.lockBtn = this.modBar.appendChild(button('ic-btn ic-lock', ''));
        this.lockBtn.addEventListener('click', () => this.toggleLock());
      }
      this.lockBtn.textContent = this.t(this.locked ? 'unlock' : 'lock');
      this.lockBtn.setAttribute('aria-pressed', String(this.locked));
      this.lockNote.textContent = this.locked ? this.t('lockedMod') : '';
      this.lockNote.hidden = !this.locked;
    }

    async toggleLock() {
      if (this.refuseIfDown()) return;
      const want = !this.locked;
      this.lockBtn.disabled = true;
      try {
        await this.api('POST', this.tenantPath('lock-image'), { urlId: this.urlId }, { locked: want });
        this.setLocked(want, true);
      } catch (e) {
        this.toast(this.t('errMod', { reason: e.message }));
      } finally {
        this.lockBtn.disabled = false;
        this.lockBtn.focus();
      }
    }

    async banAuthor(c, btn) {
      // Two steps: the first click asks, the second bans.
      if (!btn.dataset.armed) {
        btn.dataset.armed = '1';
        btn.textContent = this.t('banConfirm');
        btn.classList.add('ic-armed');
        return;
      }
      if (this.refuseIfDown()) return;
      btn.disabled = true;
      try {
        await this.api('POST', this.tenantPath('ban-user'), null,
          c.userId ? { userId: c.userId } : { anonUserId: c.anonUserId });
        this.announce(this.t('banned', { name: c.commenterName || '' }));
        this.toast(this.t('banned', { name: c.commenterName || '' }));
        btn.remove();
      } catch (e) {
        btn.disabled = false;
        this.error(this.t('errMod', { reason: e.message }));
      }
    }

    isModerator() { return !!(this.user && (this.user.isModerator || this.user.isAdmin)); }
    ownsComment(c) { return !!(editKey(c._id) || (this.user && c.userId && c.userId === this.user.id)); }
    ownsChat(d) { return !!(editKey(d._id) || (this.user && d.userId && d.userId === this.user.id)); }
    keyQuery(id) { const k = this.sso ? null : editKey(id); return k ? { editKey: k } : {}; }

    // -- markers
    markerIndex(id) {
      const sorted = Array.from(this.chats.values()).sort((a, b) => (a.data.createdAt || 0) - (b.data.createdAt || 0));
      return sorted.findIndex((c) => c.data._id === id) + 1;
    }

    upsertChat(data) {
      CHAT_CHANNEL.set(data._id, this.channelKey);
      if (data.windowUrlId) CHAT_CHANNEL.set(data.windowUrlId, this.channelKey);
      let chat = this.chats.get(data._id);
      if (!chat) {
        chat = { data, marker: button('ic-marker', '') };
        chat.marker.addEventListener('click', () => this.toggle(data._id));
        this.chats.set(data._id, chat);
        this.wrap.insertBefore(chat.marker, this.banner);
      }
      chat.data = Object.assign({}, chat.data, data);
      this.renderMarkers();
      this.reportCount();
      return chat;
    }

    renderMarkers() {
      this.chats.forEach((chat, id) => {
        const m = chat.marker;
        const d = chat.data;
        m.style.left = d.x + '%'; m.style.top = d.y + '%';
        m.textContent = String(d.commentCount || 0);
        m.setAttribute('aria-label', this.t('marker', { n: this.markerIndex(id), c: d.commentCount || 0 }));
        m.setAttribute('aria-expanded', String(!!(this.win && this.win.chatId === id)));
      });
    }

    removeChat(id) {
      const chat = this.chats.get(id);
      if (!chat) return;
      // Forget it first, so that closing its window sends focus to the image, not the marker.
      this.chats.delete(id);
      if (this.win && this.win.chatId === id) this.closeWindow(true);
      chat.marker.remove();
      this.renderMarkers();
      this.reportCount();
    }

    reportCount() {
      let total = 0;
      this.chats.forEach((c) => { total += c.data.commentCount || 0; });
      if (total === this.lastCount) return;
      this.lastCount = total;
      if (typeof this.cfg.commentCountUpdated === 'function') {
        try { this.cfg.commentCountUpdated(total); } catch (e) { console.error(e); }
      }
    }

    // -- placing a new conversation (it only exists on the server once its first message is sent)
    placeAt(pos) {
      if (this.readonly) { this.toast(this.t('readonly')); return; }
      if (this.refuseIfDown()) return;
      if (!this.pending) {
        this.pending = button('ic-marker ic-pending', '+', this.t('pending'));
        this.pending.addEventListener('click', () => this.openWindow(null));
        this.wrap.insertBefore(this.pending, this.banner);
      }
      this.pending.style.left = pos.x + '%'; this.pending.style.top = pos.y + '%';
      this.pendingPos = pos;
      if (!this.win || this.win.chatId) this.openWindow(null); else { this.placeWindow(); this.focusComposer(); }
    }

    dropPending() {
      if (this.pending) { this.pending.remove(); this.pending = null; }
    }

    // -- the chat window (built when opened, removed when closed)
    toggle(id) {
      if (this.win && this.win.chatId === id) this.closeWindow(); else this.openWindow(id);
    }

    openWindow(chatId) {
      this.closeWindow(true, !!chatId ? false : true);
      const chat = chatId ? this.chats.get(chatId) : null;
      const title = chat ? this.t('dialog', { n: this.markerIndex(chatId) }) : this.t('newDialog');
      const root = el('section', 'ic-win', { role: 'dialog', 'aria-label': title });
      const head = root.appendChild(el('div', 'ic-head'));
      const h = head.appendChild(el('h2', 'ic-title'));
      h.textContent = title;
      const win = { chatId, root, comments: new Map(), items: new Map(), replyTo: null };
      if (chat && (this.ownsChat(chat.data) || this.isModerator()) && !this.readonly) {
        const del = head.appendChild(button('ic-btn ic-link ic-del-chat', this.t('delChat')));
        del.addEventListener('click', () => this.deleteChat(chatId));
      }
      const close = head.appendChild(button('ic-btn ic-close', '×', this.t('close')));
      close.addEventListener('click', () => this.closeWindow());
      win.msgs = root.appendChild(el('div', 'ic-msgs', { tabindex: '0', role: 'region', 'aria-label': this.t('messages') }));
      win.list = win.msgs.appendChild(el('ul', 'ic-list'));
      win.status = win.msgs.appendChild(el('p', 'ic-muted'));
      win.status.textContent = chat ? this.t('loading') : this.t('empty');
      win.error = root.appendChild(el('p', 'ic-error', { role: 'alert', hidden: '' }));
      if (this.readonly) {
        const ro = root.appendChild(el('p', 'ic-muted ic-pad'));
        ro.textContent = this.t('readonly');
      } else this.buildComposer(win);
      root.addEventListener('keydown', (e) => { if (e.key === 'Escape') { e.stopPropagation(); this.closeWindow(); } });
      this.win = win;
      this.wrap.appendChild(root);
      this.renderMarkers();
      this.placeWindow();
      if (chat) this.loadComments();
      this.focusComposer();
    }

    buildComposer(win) {
      const form = win.root.appendChild(el('form', 'ic-form'));
      win.replyChip = form.appendChild(el('p', 'ic-reply-chip', { hidden: '' }));
      if (!this.sso && !store.get('name', '')) {
        win.name = form.appendChild(el('input', 'ic-input ic-name-input', { type: 'text', 'aria-label': this.t('name'), placeholder: this.t('name'), maxlength: '100', autocomplete: 'name' }));
      }
      const row = form.appendChild(el('div', 'ic-row'));
      win.text = row.appendChild(el('textarea', 'ic-input ic-text', { rows: '2', 'aria-label': this.t('message'), placeholder: this.t('placeholder'), maxlength: '5000' }));
      const send = row.appendChild(button('ic-btn ic-primary ic-send', this.t('send')));
      send.type = 'submit';
      // Enter sends, Shift+Enter makes a new line: the usual chat convention.
      win.text.addEventListener('keydown', (e) => {
        if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); form.requestSubmit(); }
      });
      form.addEventListener('submit', (e) => { e.preventDefault(); this.submit(); });
      win.form = form;
    }

    focusComposer() {
      const w = this.win;
      if (!w) return;
      const target = (w.name && !w.name.value.trim()) ? w.name : w.text || w.root.querySelector('.ic-close');
      if (target) target.focus();
    }

    // `silent`: closed because of something else (another window opens, the chat vanished);
    // focus then stays where it is. `keepPending`: the new-conversation marker stays.
    closeWindow(silent, keepPending) {
      const w = this.win;
      if (!w && !keepPending) this.dropPending();
      if (!w) return;
      const hadFocus = w.root.contains(document.activeElement);
      w.root.remove();
      this.win = null;
      if (!w.chatId && !keepPending) this.dropPending();
      this.renderMarkers();
      if (!silent || hadFocus) {
        const chat = w.chatId && this.chats.get(w.chatId);
        (chat ? chat.marker : this.wrap).focus({ preventScroll: true });
      }
    }

    // Place the window next to its marker where it fits: right, left, below, above.
    placeWindow() {
      const w = this.win;
      if (!w) return;
      const root = w.root;
      const full = innerWidth < FULLSCREEN_BELOW;
      root.classList.toggle('ic-full', full);
      root.classList.remove('to-right', 'to-left', 'to-top', 'to-bottom');
      root.style.left = root.style.top = '';
      if (full) return;
      const data = w.chatId ? (this.chats.get(w.chatId) || {}).data : this.pendingPos;
      if (!data) return;
      const box = this.img.getBoundingClientRect();
      const size = Math.max(24, box.width * (Number(this.cfg.chatSquarePercentage) || 5) / 100);
      const cx = box.width * data.x / 100, cy = box.height * data.y / 100;
      const half = size / 2, h = root.offsetHeight;
      const space = {
        right: innerWidth - (box.left + cx + half), left: box.left + cx - half,
        bottom: innerHeight - (box.top + cy + half), top: box.top + cy - half
      };
      let side = space.right >= WIN_W + ARROW + 8 ? 'right' : space.left >= WIN_W + ARROW + 8 ? 'left'
        : space.bottom >= h + ARROW ? 'bottom' : space.top >= h + ARROW ? 'top'
          : space.bottom >= space.top ? 'bottom' : 'top';
      root.classList.add('to-' + side);
      const left = side === 'right' ? cx + half + ARROW : side === 'left' ? cx - half - ARROW - WIN_W : cx - WIN_W / 2;
      const top = side === 'bottom' ? cy + half + ARROW : side === 'top' ? cy - half - ARROW - h : cy - 28;
      root.style.left = Math.round(left) + 'px';
      root.style.top = Math.round(top) + 'px';
    }

    // -- messages of the open window
    async loadComments() {
      const w = this.win;
      const chat = w && this.chats.get(w.chatId);
      if (!chat) return;
      try {
        const res = await this.api('GET', this.tenantPath('comments'), { urlId: chat.data.windowUrlId, count: 200 });
        if (this.win !== w) return;
        w.comments.clear(); w.items.forEach((li) => li.remove()); w.items.clear();
        (res.comments || []).forEach((c) => this.addComment(c));
        this.updateStatus();
      } catch (e) {
        if (this.win === w) { w.status.textContent = this.t('errLoad', { reason: e.message }); }
      }
    }

    updateStatus() {
      const w = this.win;
      if (!w) return;
      w.status.textContent = w.comments.size ? '' : this.t('empty');
      w.status.hidden = !!w.comments.size;
      this.placeWindow();
    }

    depthOf(c) {
      let d = 0, p = c.parentId;
      const all = this.win ? this.win.comments : new Map();
      while (p && all.has(p) && d < 50) { d++; p = all.get(p).parentId; }
      return d;
    }

    // Insert or replace one message, keeping others (and any edit in progress) untouched.
    addComment(c) {
      const w = this.win;
      if (!w) return;
      w.comments.set(c._id, c);
      const li = this.messageItem(c);
      const old = w.items.get(c._id);
      w.items.set(c._id, li);
      if (old) { old.replaceWith(li); return; }
      const depth = this.depthOf(c);
      let before = null;
      if (c.parentId && w.items.has(c.parentId)) {
        // After the parent's last descendant.
        let n = w.items.get(c.parentId).nextElementSibling;
        while (n && Number(n.dataset.depth) > depth - 1) n = n.nextElementSibling;
        before = n;
      } else {
        const t = Date.parse(c.date) || Infinity;
        before = Array.from(w.list.children).find((n) => n.dataset.depth === '0' && Number(n.dataset.time) > t) || null;
      }
      w.list.insertBefore(li, before);
      this.scrollToEnd(li);
    }

    scrollToEnd(li) {
      if (!li.nextElementSibling) this.win.msgs.scrollTop = this.win.msgs.scrollHeight;
    }

    removeComment(id) {
      const w = this.win;
      if (!w || !w.comments.has(id)) return;
      // Replies go with their parent, as on the server.
      w.comments.forEach((c) => { if (c.parentId === id) this.removeComment(c._id); });
      w.comments.delete(id);
      const li = w.items.get(id);
      if (li) li.remove();
      w.items.delete(id);
    }

    messageItem(c, sending) {
      const li = el('li', 'ic-msg' + (sending ? ' ic-sending' : ''));
      const depth = sending ? (c.depth || 0) : this.depthOf(c);
      li.dataset.id = c._id; li.dataset.depth = String(depth); li.dataset.time = String(Date.parse(c.date) || Date.now());
      li.style.setProperty('--ic-depth', String(depth));
      const meta = li.appendChild(el('div', 'ic-meta'));
      const name = meta.appendChild(el('span', 'ic-name'));
      name.textContent = c.commenterName || '';
      const time = meta.appendChild(el('time', 'ic-time', { datetime: c.date || null }));
      time.textContent = sending ? this.t('sending') : this.formatTime(c.date);
      const body = li.appendChild(el('div', 'ic-body'));
      // Only the server-sanitized HTML is rendered as HTML; our own text goes in as text.
      if (sending) body.textContent = c.comment; else body.innerHTML = c.commentHTML || '';
      if (!sending) this.addActions(li, c, depth);
      return li;
    }

    addActions(li, c, depth) {
      if (this.readonly) return;
      const actions = el('div', 'ic-actions');
      const name = c.commenterName || '';
      if (depth < this.maxDepth) {
        const r = actions.appendChild(button('ic-link ic-reply', this.t('reply'), this.t('reply') + ': ' + name));
        r.addEventListener('click', () => this.setReplyTo(c));
      }
      if (this.ownsComment(c)) {
        const e = actions.appendChild(button('ic-link ic-edit', this.t('edit'), this.t('edit') + ': ' + name));
        e.addEventListener('click', () => this.startEdit(c));
      }
      if (this.ownsComment(c) || this.isModerator()) {
        const d = actions.appendChild(button('ic-link ic-delete', this.t('del'), this.t('del') + ': ' + name));
        d.addEventListener('click', () => this.deleteComment(c._id));
      }
      if (this.isModerator() && !this.ownsComment(c) && (c.userId || c.anonUserId)) {
        const b = actions.appendChild(button('ic-link ic-ban', this.t('ban'), this.t('ban') + ': ' + name));
        b.addEventListener('click', () => this.banAuthor(c, b));
      }
      if (actions.children.length) li.appendChild(actions);
    }

    formatTime(iso) {
      const d = new Date(iso);
      if (isNaN(d)) return '';
      const sameDay = d.toDateString() === new Date().toDateString();
      const opts = sameDay ? { hour: '2-digit', minute: '2-digit' } : { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' };
      try { return new Intl.DateTimeFormat(this.locale, opts).format(d); } catch (e) { return d.toLocaleString(); }
    }

    setReplyTo(c) {
      const w = this.win;
      if (!w || !w.form) return;
      w.replyTo = c;
      w.replyChip.textContent = '';
      const label = w.replyChip.appendChild(el('span'));
      label.textContent = this.t('replyingTo', { name: c.commenterName || '' });
      const x = w.replyChip.appendChild(button('ic-link', '×', this.t('cancel')));
      x.addEventListener('click', () => { w.replyTo = null; w.replyChip.hidden = true; w.text.focus(); });
      w.replyChip.hidden = false;
      w.text.focus();
    }

    // -- writing
    commenterName() {
      const w = this.win;
      if (this.sso) return (this.user && (this.user.displayName || this.user.username)) || '';
      if (w.name) {
        const n = w.name.value.trim();
        if (!n) return null;
        store.set('name', n);
        return n;
      }
      return store.get('name', '');
    }

    submit() {
      const w = this.win;
      if (!w || !w.text) return;
      const text = w.text.value.trim();
      if (!text) return;
      if (this.refuseIfDown()) return;
      const name = this.commenterName();
      if (name === null) { this.error(this.t('needName')); w.name.focus(); return; }
      w.error.hidden = true;
      if (w.name) { w.name.remove(); w.name = null; }
      if (w.chatId) this.postReply(w, text, name); else this.createChat(w, text, name);
    }

    // Optimistic: the message shows at once; on failure it is taken back and the text returned.
    showSending(w, text, name, parentId) {
      const temp = { _id: 'tmp-' + uuid(), comment: text, commenterName: name, date: new Date().toISOString(), depth: parentId && w.replyTo ? this.depthOf(w.replyTo) + 1 : 0 };
      const li = this.messageItem(temp, true);
      const parentLi = parentId && w.items.get(parentId);
      w.list.insertBefore(li, parentLi ? parentLi.nextElementSibling : null);
      w.status.hidden = true;
      w.text.value = '';
      this.scrollToEnd(li);
      this.placeWindow();
      return li;
    }

    rollback(w, li, text, message) {
      li.remove();
      if (this.win === w) {
        if (!w.text.value) w.text.value = text;
        this.updateStatus();
      }
      this.error(message);
    }

    async createChat(w, text, name) {
      const pos = this.pendingPos;
      const li = this.showSending(w, text, name, null);
      try {
        const res = await this.api('POST', this.tenantPath('comment-image-chats'), null, {
          urlId: this.urlId, x: pos.x, y: pos.y, comment: text, commenterName: name,
          anonUserId: this.sso ? undefined : anonUserId(), broadcastId: broadcastId(),
          pageTitle: document.title, src: this.img.currentSrc || this.img.src
        });
        rememberEditKey([res.chat._id, res.comment && res.comment._id].filter(Boolean), res.editKey);
        li.remove();
        if (this.win === w) this.closeWindow(true, false); else this.dropPending();
        this.upsertChat(res.chat);
        // Reopen as the real conversation, with the message the server stored.
        this.openWindow(res.chat._id);
      } catch (e) {
        this.rollback(w, li, text, this.t('errSend', { reason: e.message }));
      }
    }

    async postReply(w, text, name) {
      const chat = this.chats.get(w.chatId);
      const parent = w.replyTo;
      const li = this.showSending(w, text, name, parent && parent._id);
      w.replyTo = null; w.replyChip.hidden = true;
      try {
        const res = await this.api('POST', this.tenantPath('comments'), { urlId: chat.data.windowUrlId, broadcastId: broadcastId() }, {
          comment: text, commenterName: name, urlId: chat.data.windowUrlId, parentId: parent ? parent._id : null,
          anonUserId: this.sso ? undefined : anonUserId(), url: location.href
        });
        rememberEditKey([res.comment._id], res.editKey);
        li.remove();
        if (this.win === w) { this.addComment(res.comment); this.updateStatus(); }
        this.bumpCount(w.chatId, 1);
      } catch (e) {
        this.rollback(w, li, text, this.t('errSend', { reason: e.message }));
      }
    }

    bumpCount(chatId, delta) {
      const chat = this.chats.get(chatId);
      if (!chat) return;
      this.upsertChat({ _id: chatId, commentCount: Math.max(0, (chat.data.commentCount || 0) + delta) });
    }

    startEdit(c) {
      const w = this.win;
      const li = w && w.items.get(c._id);
      if (!li || li.querySelector('.ic-edit-form')) return;
      const form = el('form', 'ic-edit-form');
      const area = form.appendChild(el('textarea', 'ic-input', { rows: '2', 'aria-label': this.t('editLabel') }));
      area.value = c.comment || htmlToText(c.commentHTML);
      const save = form.appendChild(button('ic-btn ic-primary', this.t('save')));
      save.type = 'submit';
      const cancel = form.appendChild(button('ic-btn', this.t('cancel')));
      const body = li.querySelector('.ic-body');
      body.hidden = true;
      li.insertBefore(form, body.nextSibling);
      const stop = () => { form.remove(); body.hidden = false; };
      cancel.addEventListener('click', () => { stop(); li.querySelector('.ic-edit').focus(); });
      form.addEventListener('keydown', (e) => { if (e.key === 'Escape') { e.stopPropagation(); stop(); } });
      form.addEventListener('submit', (e) => {
        e.preventDefault();
        const text = area.value.trim();
        if (!text || this.refuseIfDown()) return;
        stop();
        this.saveEdit(c, text);
      });
      area.focus();
    }

    async saveEdit(c, text) {
      const w = this.win;
      const li = w.items.get(c._id);
      const body = li.querySelector('.ic-body');
      body.textContent = text; // optimistic, as plain text until the server's HTML comes back
      li.classList.add('ic-sending');
      try {
        const res = await this.api('POST', this.tenantPath('comments') + '/' + encodeURIComponent(c._id) + '/update-text',
          Object.assign({ broadcastId: broadcastId() }, this.keyQuery(c._id)), { comment: text });
        if (this.win === w) this.addComment(res.comment);
      } catch (e) {
        if (this.win === w && w.comments.has(c._id)) this.addComment(w.comments.get(c._id));
        this.error(this.t('errEdit', { reason: e.message }));
      }
    }

    async deleteComment(id) {
      if (this.refuseIfDown()) return;
      const w = this.win;
      const chatId = w.chatId;
      const removed = Array.from(w.comments.values());
      this.removeComment(id);
      const lost = removed.length - w.comments.size;
      this.updateStatus();
      w.text && w.text.focus();
      try {
        await this.api('DELETE', this.tenantPath('comments') + '/' + encodeURIComponent(id),
          Object.assign({ broadcastId: broadcastId() }, this.keyQuery(id)));
        // The marker goes with its last message (the server deletes it too).
        if (this.win === w && !w.comments.size) this.removeChat(chatId); else this.bumpCount(chatId, -lost);
      } catch (e) {
        if (this.win === w) removed.forEach((c) => { if (!w.comments.has(c._id)) this.addComment(c); });
        this.updateStatus();
        this.error(this.t('errDel', { reason: e.message }));
      }
    }

    async deleteChat(chatId) {
      if (this.refuseIfDown()) return;
      const chat = this.chats.get(chatId);
      if (!chat) return;
      const data = chat.data;
      this.closeWindow(true);
      this.removeChat(chatId);
      this.wrap.focus();
      try {
        await this.api('DELETE', this.tenantPath('comment-image-chats') + '/' + encodeURIComponent(chatId),
          Object.assign({ broadcastId: broadcastId() }, this.keyQuery(chatId)));
      } catch (e) {
        this.upsertChat(data);
        this.toast(this.t('errDel', { reason: e.message }));
      }
    }

    // -- live events from others (our own echoes never get here)
    apply(ev) {
      switch (ev.type) {
        case 'new-image-chat':
        case 'image-chat-updated':
          // Events leave the creation time out of a marker: for one we have not seen yet,
          // it is this event's timestamp.
          if (ev.chat) { this.upsertChat(this.chats.has(ev.chat._id) ? ev.chat : Object.assign({ createdAt: ev.timestamp }, ev.chat)); if (this.win && this.win.chatId === ev.chat._id) this.placeWindow(); }
          break;
        case 'deleted-image-chat':
          if (ev.chat && this.chats.has(ev.chat._id)) { this.removeChat(ev.chat._id); this.announce(this.t('removed')); }
          break;
        case 'new-comment':
        case 'updated-comment':
        case 'deleted-comment':
          this.applyComment(ev.type, ev.comment);
          break;
        case 'image-locked':
          this.setLocked(!!ev.locked, true);
          break;
        default: // votes and unknown events: nothing to show
      }
    }

    applyComment(type, c) {
      if (!c) return;
      const w = this.win;
      const chat = w && this.chats.get(w.chatId);
      const inOpen = chat && (c.chatId === w.chatId || c.urlId === chat.data.windowUrlId);
      if (type === 'deleted-comment') {
        if (inOpen) { this.removeComment(c._id); this.updateStatus(); }
        return;
      }
      if (inOpen) { this.addComment(c); this.updateStatus(); }
      if (type === 'new-comment') this.announce(this.t('announce', { name: c.commenterName || '', text: htmlToText(c.commentHTML) }));
    }
  }

  function ImageChat(target, config) {
    return new Widget(target, config || {});
  }

  window.ImageChat = ImageChat;
  window.FastCommentsImageChat = ImageChat;
})();
