// Every option of ImageChat(target, config), with its default: the one place that reads a
// config. A new option is one line in DEFAULTS, one in normalizeOptions, and the README's
// "Embedding the widget" list.

export const DEFAULTS = Object.freeze({
  tenantId: null, // required
  urlId: null, // null: the page's URL and the image's src, as `<page>|<src>`
  host: null, // null: the server the script was loaded from
  locale: null, // null: the browser's language
  sso: null, // a Secure or Simple SSO token: an object, or its JSON text
  readonly: false,
  hasDarkBackground: false, // the widget also follows `body.dark`, live
  chatSquarePercentage: 5, // marker size, % of the image's width (never under 24 px)
  maxReplyDepth: 0, // 0: a flat chat
  commentCountUpdated: null, // called with the number of comments on the image's markers
  showResolved: true, // the "show resolved" switch starts on
  notifications: true, // the bell on the image and the follow switch in the chat window
  versions: true // report the image shown (versions), the version switcher and compare view
});

// `env` holds what the defaults depend on: {scriptOrigin, pageOrigin, pagePath, language,
// imageSrc}. Empty values (0, '', false) take the default, as they always have, except for
// the switches that default to on: there `false` is honoured.
export function normalizeOptions(config, env) {
  const given = (key) => config[key] || DEFAULTS[key];
  const on = (key) => (config[key] == null ? DEFAULTS[key] : !!config[key]);
  if (!given('tenantId')) throw new Error('ImageChat: config.tenantId is required.');
  const sso = given('sso');
  const onCount = given('commentCountUpdated');
  return Object.freeze({
    tenantId: given('tenantId'),
    // `|`, not `#`: the server drops a urlId's #fragment, which would make every image of
    // a page one image.
    urlId: given('urlId') || env.pageOrigin + env.pagePath + '|' + (env.imageSrc || ''),
    host: String(given('host') || env.scriptOrigin).replace(/\/+$/, ''),
    locale: String(given('locale') || env.language || 'en'),
    sso: sso == null ? null : (typeof sso === 'string' ? sso : JSON.stringify(sso)),
    readonly: !!given('readonly'),
    hasDarkBackground: !!given('hasDarkBackground'),
    chatSquarePercentage: Number(given('chatSquarePercentage')) || DEFAULTS.chatSquarePercentage,
    maxReplyDepth: Math.max(0, given('maxReplyDepth') | 0),
    commentCountUpdated: typeof onCount === 'function' ? onCount : null,
    showResolved: on('showResolved'),
    notifications: on('notifications'),
    versions: on('versions')
  });
}
