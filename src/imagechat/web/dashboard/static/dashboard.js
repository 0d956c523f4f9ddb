// The dashboard's only script. Every page works without it; it adds a confirmation step
// to destructive buttons and starts the live view (the widget) on an image's page.
(function () {
  'use strict';

  document.addEventListener('submit', function (event) {
    var button = event.submitter || event.target.querySelector('[data-confirm]');
    var question = button && button.getAttribute('data-confirm');
    if (question && !window.confirm(question)) event.preventDefault();
  });

  var config = document.getElementById('ic-config');
  var image = document.getElementById('ic-image');
  if (config && image && typeof window.ImageChat === 'function') {
    // The widget follows `body.dark`; the dashboard follows the system's colour scheme.
    var dark = window.matchMedia('(prefers-color-scheme: dark)');
    var follow = function () { document.body.classList.toggle('dark', dark.matches); };
    follow();
    dark.addEventListener('change', follow);
    window.ImageChat(image, JSON.parse(config.textContent));
  }
})();
