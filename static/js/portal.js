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
 *   Without JavaScript the button stays hidden and the menu open. Esc closes the
 *   open menu and gives the focus back to the button.
 *
 * [data-disclosure] > .disclosure-toggle + .disclosure-panel
 *   The same on phones for a panel of a page (the initiative list's filters): folded
 *   behind its button, opened with it, closed with Esc. On a desk the stylesheet hides
 *   the button and shows the panel; data-disclosure="open" starts it open (an error
 *   to correct inside).
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

  // A disclosure: `box` folds behind `button`; the open state lives in aria-expanded and in
  // the box's is-open class (which the stylesheet reads, on phones only).
  var disclosures = [];
  function disclosure(box, button, startOpen) {
    function set(open) {
      button.setAttribute("aria-expanded", open ? "true" : "false");
      box.classList.toggle("is-open", open);
    }
    box.classList.add("is-collapsible");
    set(startOpen);
    button.addEventListener("click", function () {
      set(button.getAttribute("aria-expanded") !== "true");
    });
    disclosures.push({ box: box, button: button, set: set });
  }

  var nav = document.querySelector(".main-nav");
  var toggle = nav && nav.querySelector(".nav-toggle");
  if (toggle) {
    disclosure(nav, toggle, false);
  }
  Array.prototype.forEach.call(document.querySelectorAll("[data-disclosure]"), function (box) {
    var button = box.querySelector(".disclosure-toggle");
    if (button) {
      disclosure(box, button, box.getAttribute("data-disclosure") === "open");
    }
  });

  // Esc closes an open menu or panel (the one holding the focus first) and returns the
  // focus to its button, so that the keyboard is not left inside something hidden.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" && event.key !== "Esc") {
      return;
    }
    var open = disclosures.filter(function (d) {
      return d.button.getAttribute("aria-expanded") === "true" &&
        getComputedStyle(d.button).display !== "none";
    });
    var active = document.activeElement;
    var inside = open.filter(function (d) {
      return d.box.contains(active);
    });
    var target = inside[0] || open[0];
    if (target) {
      target.set(false);
      target.button.focus();
      event.preventDefault();
    }
  });

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
