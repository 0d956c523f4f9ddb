// The widget's options: one table of defaults, one normalising step.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { DEFAULTS, normalizeOptions } from '../../src/imagechat/web/widget/options.mjs';

const ENV = { scriptOrigin: 'https://chat.example.test', pageOrigin: 'https://shop.test', pagePath: '/home', language: 'pl-PL', imageSrc: '/img/a.png' };

test('every option not given takes its default', () => {
  const opts = normalizeOptions({ tenantId: 'demo' }, ENV);
  assert.deepEqual(opts, {
    tenantId: 'demo', urlId: 'https://shop.test/home|/img/a.png', host: 'https://chat.example.test',
    locale: 'pl-PL', sso: null, readonly: false, hasDarkBackground: false,
    chatSquarePercentage: DEFAULTS.chatSquarePercentage, maxReplyDepth: 0, commentCountUpdated: null,
    showResolved: true, notifications: true, versions: true
  });
  assert.ok(Object.isFrozen(opts));
  assert.deepEqual(Object.keys(opts).sort(), Object.keys(DEFAULTS).sort());
});

test('given options are taken and made the type the widget uses', () => {
  const onCount = () => {};
  const opts = normalizeOptions({
    tenantId: 't', urlId: 'img-1', host: 'https://other.test//', locale: 'de', sso: { userDataJSONBase64: 'x' },
    readonly: 1, hasDarkBackground: 'yes', chatSquarePercentage: '10', maxReplyDepth: 2.7, commentCountUpdated: onCount
  }, ENV);
  assert.equal(opts.host, 'https://other.test');
  assert.equal(opts.sso, '{"userDataJSONBase64":"x"}');
  assert.equal(opts.readonly, true);
  assert.equal(opts.hasDarkBackground, true);
  assert.equal(opts.chatSquarePercentage, 10);
  assert.equal(opts.maxReplyDepth, 2);
  assert.equal(opts.commentCountUpdated, onCount);
  assert.equal(normalizeOptions({ tenantId: 't', sso: '{"a":1}' }, ENV).sso, '{"a":1}');
});

test('empty or unusable values take the default', () => {
  const opts = normalizeOptions({ tenantId: 't', chatSquarePercentage: 'big', maxReplyDepth: -3, locale: '', commentCountUpdated: 'no' }, ENV);
  assert.equal(opts.chatSquarePercentage, 5);
  assert.equal(opts.maxReplyDepth, 0);
  assert.equal(opts.locale, 'pl-PL');
  assert.equal(opts.commentCountUpdated, null);
  assert.equal(normalizeOptions({ tenantId: 't', chatSquarePercentage: 0 }, ENV).chatSquarePercentage, 5);
  assert.equal(normalizeOptions({ tenantId: 't' }, Object.assign({}, ENV, { language: undefined })).locale, 'en');
});

test('the switches that default to on take false, and only a missing value takes the default', () => {
  const off = normalizeOptions({ tenantId: 't', showResolved: false, notifications: 0, versions: false }, ENV);
  assert.equal(off.showResolved, false);
  assert.equal(off.notifications, false);
  assert.equal(off.versions, false);
  const unset = normalizeOptions({ tenantId: 't', showResolved: null }, ENV);
  assert.equal(unset.showResolved, true);
  assert.equal(unset.notifications, true);
});

test('a tenant is required', () => {
  assert.throws(() => normalizeOptions({}, ENV), /config\.tenantId is required/);
});
