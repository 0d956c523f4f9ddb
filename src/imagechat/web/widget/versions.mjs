// Versions of the image (docs/protocol.md, "Regions, versions and carry-over"). The widget
// reports the image it sees (its `currentSrc`, once loaded and again when the page swaps
// it); the server answers which version that is, making a new one and carrying every
// conversation over when the content is new. The widget shows the latest version unless
// the visitor picks another in the switcher; conversations are then listed at their place on the
// version shown, and the image shows that version (its src, else its thumbnail).

import { el } from './dom.mjs';
import { newBroadcastId, storage } from './ids.mjs';
import { pageUrl } from './notifications.mjs';

const PLACE = ['x', 'y', 'region', 'carry', 'positionVersion'];
// A report is a write (it counts against the site's rate limits), so each browser makes it
// once per image and address: again only when the list's latest version is not the one
// the address was, or after this long (the same address may have a new content by then).
export const REPORT_AGAIN_MS = 10 * 60 * 1000;
const REPORTS_KEPT = 50;

// The protocol's rule: a conversation's `x`, `y`, `region` and `carry` are on
// `positionVersion` (default: its own version, else the latest); they apply only when that
// is the version shown. `shown` null: the image has no versions, everything applies.
export function placeApplies(conversation, shown, latest) {
  if (shown == null) return true;
  const on = conversation.positionVersion != null ? conversation.positionVersion : conversation.version != null ? conversation.version : latest;
  return on == null || on === shown;
}

export function withoutPlace(conversation) {
  const rest = Object.assign({}, conversation);
  PLACE.forEach((k) => delete rest[k]);
  return rest;
}

// A conversation's place on a new version, from an `image-version` event's `chats` entry.
export function carriedPlace(c, version) {
  const place = { _id: c._id, x: c.x, y: c.y, carry: c.carry, region: c.region || null, positionVersion: version };
  if (c.version != null) place.version = c.version;
  return place;
}

// What the image shows for a version: its own address, else its thumbnail on the server.
export function versionSrc(v, host) {
  if (!v) return null;
  return v.src || (v.thumbnail ? host + v.thumbnail : null);
}

// The addresses the server can fetch: only the web's.
export function reportable(src) { return /^https?:\/\//i.test(src || ''); }

// Whether this browser must report `src` for `urlId`, from what it remembers (`seen`:
// {key: {v, at}}): never reported, reported long ago, or as another version than the latest.
export function mustReport(seen, urlId, src, latest, now) {
  const last = (seen || {})[urlId + ' ' + src];
  return !last || now - last.at > REPORT_AGAIN_MS || latest == null || last.v !== latest;
}

// What is remembered after a report: the newest REPORTS_KEPT addresses.
export function remember(seen, urlId, src, v, now) {
  const all = Object.assign({}, seen || {}, { [urlId + ' ' + src]: { v, at: now } });
  const keys = Object.keys(all).sort((a, b) => all[b].at - all[a].at);
  const kept = {};
  keys.slice(0, REPORTS_KEPT).forEach((k) => { kept[k] = all[k]; });
  return kept;
}

export function upsertVersion(list, v) {
  const out = list.filter((one) => one.version !== v.version);
  out.push(v);
  return out.sort((a, b) => a.version - b.version);
}

// `widget` gives t, opts, img, rest, tools, readonly, and reloadList, upsertConversation, announce.
export class Versions {
  constructor(widget) {
    this.widget = widget;
    this.list = []; // {version, src, thumbnail, ...}, oldest first
    this.latest = null;
    this.shown = null; // the version the conversations are placed on (null: no versions yet)
    this.follow = true; // show the latest, also when a new one arrives
    this.pageVersion = null; // the version of the page's own image, once reported
    this.reported = null; // the last src reported
    this.selfSrc = null; // a src the widget set itself (not the page's: never reported)
    this.pageSrc = null; // the page's own src and srcset, while another version is shown
    this.select = null;
    this.onLoad = () => this.imageLoaded();
    widget.img.addEventListener('load', this.onLoad);
  }

  get enabled() { return this.widget.opts.versions; }

  // The list read: which version it placed the conversations on.
  took(list) {
    if (list.latestVersion == null) return;
    this.latest = Math.max(this.latest || 0, list.latestVersion);
    this.shown = list.version;
    if (this.list.length < this.latest) this.refresh();
  }

  // The version to list the conversations on: null for the latest.
  get wanted() { return this.follow ? null : this.shown; }

  get onLatest() { return this.shown == null || this.shown === this.latest; }

  async refresh() {
    const w = this.widget;
    try {
      const res = await w.rest.listVersions(w.opts.urlId);
      (res.versions || []).forEach((v) => { this.list = upsertVersion(this.list, v); });
      if (res.latestVersion) this.latest = Math.max(this.latest || 0, res.latestVersion);
      this.render();
    } catch (e) { /* the switcher waits for the next version */ }
  }

  imageLoaded() {
    const img = this.widget.img, src = img.currentSrc || img.src;
    if (src === this.selfSrc) return;
    if (this.pageSrc && src !== this.pageSrc.src) this.pageSrc = null; // the page swapped it
    this.report();
  }

  // Tell the server which image the page shows (after the list was read).
  async report() {
    const w = this.widget, img = w.img;
    const src = img.currentSrc || img.src;
    if (!this.enabled || w.readonly || !w.loaded || !img.complete || !img.naturalWidth || this.selfSrc === src) return;
    if (!reportable(src) || src === this.reported) return;
    this.reported = src;
    const seen = storage.get('reported', {});
    if (!mustReport(seen, w.opts.urlId, src, this.latest, Date.now())) {
      this.pageVersion = this.latest; // the latest, as when it was reported
      return;
    }
    let res;
    try {
      res = await w.rest.reportImage({ urlId: w.opts.urlId, src, url: pageUrl(location.href), broadcastId: newBroadcastId() });
    } catch (e) { return; } // not an image the server may read: the markers stay as listed
    if (this.reported !== src) return;
    storage.set('reported', remember(storage.get('reported', {}), w.opts.urlId, src, res.version, Date.now()));
    this.list = upsertVersion(this.list, res.image);
    this.pageVersion = res.version;
    if (res.latest) this.latest = res.version; else if (!this.latest || this.latest < res.version) this.refresh();
    this.follow = !!res.latest;
    if (res.created) w.announce(w.t('newVersion', { n: res.version }));
    if (res.version !== this.shown) { this.shown = res.version; await w.reloadList(); }
    this.render();
  }

  // The visitor picked a version in the switcher (or the compare view's "show").
  async show(n) {
    const w = this.widget;
    this.follow = n === this.latest;
    this.shown = n;
    this.display(n);
    this.render();
    await w.reloadList();
    w.announce(w.t('showingVersion', { n }));
  }

  // The image shows version `n`: the page's own image when it is that one, else the
  // version's src (or thumbnail), set by the widget and never reported.
  display(n) {
    const w = this.widget, img = w.img;
    if (n === this.pageVersion || (this.pageVersion == null && n === this.latest && this.pageSrc)) { this.restore(); return; }
    const src = versionSrc(this.list.find((v) => v.version === n), w.opts.host);
    if (!src || src === (img.currentSrc || img.src)) return;
    if (!this.pageSrc) this.pageSrc = { src: img.getAttribute('src'), srcset: img.getAttribute('srcset') };
    img.removeAttribute('srcset');
    this.selfSrc = src;
    img.src = src;
  }

  restore() {
    const img = this.widget.img, p = this.pageSrc;
    if (!p) return;
    this.pageSrc = null;
    this.selfSrc = null;
    if (p.srcset != null) img.setAttribute('srcset', p.srcset);
    if (p.src != null) img.setAttribute('src', p.src);
  }

  // `image-version`: a new version (its conversations carried over), or news of one.
  onEvent(ev) {
    const w = this.widget, v = ev.version;
    if (!v) return;
    this.list = upsertVersion(this.list, v);
    const isNew = !this.latest || v.version > this.latest;
    if (isNew) this.latest = v.version;
    if (isNew && this.follow) {
      this.shown = v.version;
      this.display(v.version);
      (ev.chats || []).forEach((c) => w.upsertConversation(carriedPlace(c, v.version), true));
      w.markers.renderAll();
      w.carryChanged();
      w.announce(w.t('newVersion', { n: v.version }));
    }
    this.render();
  }

  // The switcher: a select on the image, once there are two versions.
  render() {
    const w = this.widget, t = w.t;
    if (!this.enabled || this.list.length < 2) { if (this.select) { this.select.remove(); this.select = null; } return; }
    if (!this.select) {
      this.select = el('select', 'ic-tool ic-versions', { 'aria-label': t('versionPick') });
      this.select.addEventListener('change', () => this.show(Number(this.select.value)));
      w.tools.insertBefore(this.select, w.tools.firstChild);
    }
    const key = this.list.map((v) => v.version).join(',') + '|' + this.latest;
    if (this.select.dataset.key !== key) {
      this.select.textContent = '';
      this.list.forEach((v) => {
        const o = this.select.appendChild(el('option', null, { value: String(v.version) }));
        o.textContent = t(v.version === this.latest ? 'versionLatest' : 'version', { n: v.version });
      });
      this.select.dataset.key = key;
    }
    if (this.shown != null) this.select.value = String(this.shown);
  }

  destroy() {
    this.widget.img.removeEventListener('load', this.onLoad);
    this.restore();
  }
}
