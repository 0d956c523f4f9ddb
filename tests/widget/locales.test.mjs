// Every language says everything English says, and nothing English does not.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { STRINGS, translator } from '../../src/imagechat/web/widget/locales.mjs';

test('en, pl, de, es and fr have the same strings, with the same placeholders', () => {
  assert.deepEqual(Object.keys(STRINGS).sort(), ['de', 'en', 'es', 'fr', 'pl']);
  const holes = (text) => (text.match(/\{\w+\}/g) || []).sort();
  Object.keys(STRINGS).forEach((lang) => {
    assert.deepEqual(Object.keys(STRINGS[lang]).sort(), Object.keys(STRINGS.en).sort(), lang);
    Object.keys(STRINGS.en).forEach((key) => {
      assert.ok(STRINGS[lang][key].trim(), lang + ' ' + key);
      assert.deepEqual(holes(STRINGS[lang][key]), holes(STRINGS.en[key]), lang + ' ' + key);
    });
  });
});

test('placeholders are filled, an unknown language speaks English', () => {
  assert.equal(translator('pl-PL')('bellUnread', { n: 3 }), 'Powiadomienia, nieprzeczytane: 3');
  assert.equal(translator('xx')('showResolved'), 'Show resolved');
});
