/*
 * era_date.js — the date fields (portal_lib.forms.EraDateInput); progressive enhancement.
 * Loaded with `defer`, no inline script (strict CSP), nothing from a CDN.
 *
 * span.era-date > input.era-date-text + input.era-date-picker + output.era-date-echo
 *   Typing stays in the text box, read by the server as people type dates (和暦, R8.11.2,
 *   full-width digits …). After a short pause the text is sent to data-echo-url, which
 *   answers the date in 和暦 (shown in the <output>) and as ISO (set on the picker).
 *   The picker (a native <input type="date">, hidden without JavaScript) is for those
 *   who prefer a calendar: what is picked is written into the text box as 2026-11-02.
 */
(function () {
  "use strict";

  function setup(box) {
    var text = box.querySelector(".era-date-text");
    var picker = box.querySelector(".era-date-picker");
    var echo = box.querySelector(".era-date-echo");
    if (!text || !echo) {
      return;
    }
    var url = text.getAttribute("data-echo-url");
    var timer = null;
    var asked = 0;

    function show(answer) {
      echo.textContent = answer.ok ? answer.label : answer.error || "";
      echo.classList.toggle("is-error", !answer.ok && !!answer.error);
      if (picker && answer.ok) {
        picker.value = answer.iso;
      }
    }

    function ask() {
      var value = text.value.trim();
      if (!value) {
        show({ ok: false, error: "" });
        return;
      }
      var mine = ++asked;
      fetch(url + "?value=" + encodeURIComponent(value), {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      })
        .then(function (response) {
          return response.ok ? response.json() : null;
        })
        .then(function (answer) {
          if (answer && mine === asked) {
            show(answer);
          }
        })
        .catch(function () {});
    }

    text.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(ask, 250);
    });
    text.addEventListener("change", ask);

    if (picker) {
      picker.hidden = false;
      picker.addEventListener("change", function () {
        if (picker.value) {
          text.value = picker.value;
          ask();
        }
      });
    }
  }

  var boxes = document.querySelectorAll(".era-date");
  for (var i = 0; i < boxes.length; i++) {
    setup(boxes[i]);
  }
})();
