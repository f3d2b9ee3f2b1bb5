// Keeps the live-session counters moving: polls the page's own JSON while a session is on air.
(function () {
  "use strict";
  var list = document.querySelector("[data-poll-url]");
  if (!list) return;
  var url = list.getAttribute("data-poll-url");
  var every = parseInt(list.getAttribute("data-poll-ms"), 10) || 1000;
  var lang = document.documentElement.lang === "en" ? "en-GB" : "vi-VN";
  var digits = { orders: 0, kg: 1, gmv_vnd: 0 };

  function show(session) {
    var item = list.querySelector('[data-live-id="' + session.id + '"]');
    if (!item) return;
    Object.keys(digits).forEach(function (field) {
      var cell = item.querySelector('[data-field="' + field + '"]');
      if (!cell) return;
      var text = Number(session[field]).toLocaleString(lang, {
        minimumFractionDigits: digits[field], maximumFractionDigits: digits[field]
      });
      if (cell.textContent !== text) {
        cell.textContent = text;
        cell.classList.remove("bump");
        void cell.offsetWidth;
        cell.classList.add("bump");
      }
    });
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : { sessions: [] }; })
      .then(function (body) { body.sessions.forEach(show); })
      .catch(function () {})
      .then(function () { setTimeout(poll, document.hidden ? every * 5 : every); });
  }
  setTimeout(poll, every);
})();
