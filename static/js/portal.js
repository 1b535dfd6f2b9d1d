/*
 * portal.js — progressive enhancement only; the portal works without JavaScript.
 * Loaded with `defer` (no inline scripts: compatible with a strict CSP).
 *
 * data-confirm="メッセージ"
 *   On a <form>, or on a submit <button>/<input> inside a form: asks for
 *   confirmation before submitting. On an <a>: asks before following the link.
 *
 * .main-nav .nav-toggle
 *   On phones the menu folds behind this button (a disclosure: aria-expanded).
 *   Without JavaScript the button stays hidden and the menu open.
 *
 * .print-date
 *   Puts today's date in --print-date, which the stylesheet prints in the bottom
 *   margin of every page (refreshed just before printing).
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

  var nav = document.querySelector(".main-nav");
  var toggle = nav && nav.querySelector(".nav-toggle");
  if (toggle) {
    nav.classList.add("is-collapsible");
    toggle.addEventListener("click", function () {
      var open = toggle.getAttribute("aria-expanded") !== "true";
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      nav.classList.toggle("is-open", open);
    });
  }

  var printDate = document.querySelector(".print-date");
  function pad(n) {
    return (n < 10 ? "0" : "") + n;
  }
  function stampPrintDate() {
    var now = new Date();
    var iso = now.getFullYear() + "-" + pad(now.getMonth() + 1) + "-" + pad(now.getDate());
    var time = printDate.querySelector("time");
    if (time) {
      time.textContent = iso;
      time.setAttribute("datetime", iso);
    }
    var text = (printDate.getAttribute("data-label") || "") + " " + iso;
    document.documentElement.style.setProperty("--print-date", JSON.stringify(text.trim()));
    document.documentElement.classList.add("has-print-date");
  }
  if (printDate) {
    stampPrintDate();
    window.addEventListener("beforeprint", stampPrintDate);
  }
})();
