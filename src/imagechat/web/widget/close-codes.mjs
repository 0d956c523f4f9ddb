// Generated from src/imagechat/live/close_codes.py by
// `python -m imagechat.http.widget_bundle`: do not edit. What each code means and
// what a client should do is in docs/protocol.md ("Close codes").
export const CLOSE = Object.freeze({
  NORMAL: 1000,
  GOING_AWAY: 1001,
  PROTOCOL_ERROR: 1002,
  UNSUPPORTED_DATA: 1003,
  INVALID_UTF8: 1007,
  TOO_BIG: 1009,
  SERVER_ERROR: 1011,
  SLOW_CONSUMER: 4001,
  BAD_MESSAGE: 4400,
  UNAUTHENTICATED: 4401,
  ORIGIN_NOT_ALLOWED: 4403,
  TENANT_NOT_FOUND: 4404,
  HEARTBEAT_TIMEOUT: 4408,
  TOO_MANY_CHANNELS: 4413,
  RATE_LIMITED: 4429,
  UNAVAILABLE: 4503,
});
