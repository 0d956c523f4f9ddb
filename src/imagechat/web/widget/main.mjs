// The widget's entry: ImageChat(imgOrContainer, {tenantId: 'demo'}) draws markers and live
// conversations on an image and returns the widget; widget.destroy() takes all of it away
// again (single-page apps). FastCommentsImageChat is the same function, so that pages
// written for the reference work unchanged. Served joined with its modules as
// /js/embed-image-chat.min.js (imagechat/http/widget_bundle.py); the options are in
// options.mjs.

import { Widget } from './widget.mjs';

// document.currentScript is only set while the script runs, so the default host is
// captured now: the widget talks to the server it was loaded from.
const SCRIPT = document.currentScript;
const SCRIPT_ORIGIN = SCRIPT && SCRIPT.src ? new URL(SCRIPT.src, location.href).origin : location.origin;

function ImageChat(target, config) {
  return new Widget(target, config || {}, { scriptOrigin: SCRIPT_ORIGIN });
}

window.ImageChat = ImageChat;
window.FastCommentsImageChat = ImageChat;
