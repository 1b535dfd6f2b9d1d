/*
 * portal.js — progressive enhancement only; the portal works without JavaScript.
 * Loaded with `defer` (no inline scripts: compatible with a strict CSP).
 *
 * data-confirm="メッセージ"
 *   On a <form>, or on a submit <button>/<input> inside a form: asks for
 *   confirmation before submitting. On an <a>: asks before following the link.
 */
(function () {
  "use strict";

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var submitter = event.submitter;
    var message =
      (submitter && submitter.getAttribute("data-confirm")) ||
      form.getAttribute("data-confirm");
    if (message && !window.confirm(message)) {
      event.preventDefault();
    }
  });

  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("a[data-confirm]") : null;
    if (link && !window.confirm(link.getAttribute("data-confirm"))) {
      event.preventDefault();
    }
  });
})();
