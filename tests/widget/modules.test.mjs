// Every module of the widget loads (the browser joins them into one script; a module that
// does not parse would break the whole widget). main.mjs needs a page, so it is left out.

import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { test } from 'node:test';

const DIR = new URL('../../src/imagechat/web/widget/', import.meta.url);

test('every module but the entry loads under Node', async () => {
  const files = readdirSync(DIR).filter((f) => f.endsWith('.mjs') && f !== 'main.mjs');
  assert.ok(files.length > 10);
  for (const file of files) await import(new URL(file, DIR));
});
