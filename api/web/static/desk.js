// The packing desk: a barcode scanner acting as a keyboard types a code and Enter. Each code is
// posted (with the page's CSRF token) in the order scanned, the field is cleared at once so the
// next scan can follow, and the answer is shown, spoken to screen readers and beeped.
(function () {
  "use strict";
  var form = document.getElementById("scan");
  if (!form) return;
  var field = form.querySelector("input[name=code]");
  var result = document.getElementById("scan-result");
  var lang = document.documentElement.lang === "en" ? "en-GB" : "vi-VN";
  var queue = Promise.resolve();
  var audio = null;
  var answered = 0;

  // Distinct by rhythm and pitch, not only by loudness: one high beep for packed, two for a
  // parcel already packed, a long low buzz for another batch, three falling tones for unknown.
  var SOUNDS = {
    packed: [[1320, 0, 0.12, "sine"]],
    already_packed: [[740, 0, 0.1, "sine"], [740, 0.18, 0.1, "sine"]],
    other_batch: [[196, 0, 0.6, "square"]],
    unknown: [[523, 0, 0.12, "triangle"], [392, 0.16, 0.12, "triangle"], [262, 0.32, 0.22, "triangle"]],
    error: [[262, 0, 0.3, "sawtooth"]]
  };
  var ICONS = { packed: "✓", already_packed: "2×", other_batch: "✗", unknown: "?", error: "!" };

  function context() {
    var Audio = window.AudioContext || window.webkitAudioContext;
    if (!Audio) return null;
    if (!audio) audio = new Audio();
    if (audio.state === "suspended") audio.resume();
    return audio;
  }

  function beep(outcome) {
    var ctx = context();
    if (!ctx) return;
    (SOUNDS[outcome] || SOUNDS.error).forEach(function (note) {
      var osc = ctx.createOscillator();
      var gain = ctx.createGain();
      var start = ctx.currentTime + note[1];
      var end = start + note[2];
      osc.type = note[3];
      osc.frequency.value = note[0];
      // A short ramp in and out: no click at either end.
      gain.gain.setValueAtTime(0.0001, start);
      gain.gain.exponentialRampToValueAtTime(0.25, start + 0.01);
      gain.gain.setValueAtTime(0.25, end - 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, end);
      osc.connect(gain).connect(ctx.destination);
      osc.start(start);
      osc.stop(end + 0.02);
    });
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text) node.textContent = text;
    return node;
  }

  function show(outcome, title, detail) {
    result.hidden = false;
    result.className = "result result-" + outcome;
    result.setAttribute("data-outcome", outcome);
    result.setAttribute("data-scan", String(++answered));
    result.textContent = "";
    result.appendChild(element("span", "result-icon", ICONS[outcome] || ICONS.error))
      .setAttribute("aria-hidden", "true");
    var words = result.appendChild(element("span", "result-words"));
    words.appendChild(element("strong", "result-title", title));
    if (detail) words.appendChild(element("span", "result-detail", detail));
    // Restart the flash even when the same outcome comes twice in a row.
    result.classList.remove("flash");
    void result.offsetWidth;
    result.classList.add("flash");
    beep(outcome);
  }

  function count(name, value) {
    if (typeof value !== "number") return;
    document.querySelectorAll('[data-count="' + name + '"]').forEach(function (node) {
      node.textContent = value.toLocaleString(lang);
    });
  }

  function update(body) {
    count("packed", body.packed);
    count("left", body.left);
    var card = document.getElementById("left-card");
    if (card && typeof body.left === "number") card.classList.toggle("done", body.left === 0);
    var bar = document.getElementById("progress");
    if (bar && typeof body.packed === "number" && typeof body.left === "number") {
      bar.max = Math.max(1, body.packed + body.left);
      bar.value = body.packed;
    }
    var badge = document.querySelector("#batch-status .status-open");
    if (badge && body.outcome === "packed") {
      // The first parcel packed moves an open batch to packing.
      badge.className = "status status-packing";
      badge.textContent = form.getAttribute("data-msg-status-packing");
    }
    var row = body.shipment_id && document.getElementById("parcel-" + body.shipment_id);
    if (row && body.outcome !== "other_batch") {
      row.classList.add("is-packed");
      var state = row.querySelector("[data-state]");
      if (state) state.textContent = form.getAttribute("data-msg-packed");
    }
  }

  function send(code) {
    var data = new FormData(form);
    data.set("code", code);
    return fetch(form.action, {
      method: "POST", body: data, credentials: "same-origin",
      headers: { Accept: "application/json" }
    }).then(function (response) {
      var type = response.headers.get("content-type") || "";
      if (response.redirected || type.indexOf("application/json") !== 0) {
        // Signed out meanwhile: fetch followed the redirect to the sign-in page.
        show("error", form.getAttribute("data-msg-signed-out"), code);
        return;
      }
      return response.json().then(function (body) {
        if (!body.outcome) {
          show("error", form.getAttribute("data-msg-refused"), code);
          return;
        }
        update(body);
        show(body.outcome, body.title, body.detail);
      });
    }).catch(function () {
      show("error", form.getAttribute("data-msg-network"), code);
    });
  }

  // A scanner that sends CR and LF submits twice: the empty second one is ignored quietly
  // rather than answered with the browser's "fill in this field" bubble.
  form.noValidate = true;
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var code = field.value.trim();
    field.value = "";
    field.focus();
    if (!code) return;
    context();  // the scan is the user gesture that lets the page make sound
    queue = queue.then(function () { return send(code); });
  });

  // A scan that starts while nothing has focus (the packer tapped the page) still lands in the field.
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (target !== document.body && target !== document.documentElement) return;
    if (event.ctrlKey || event.metaKey || event.altKey || event.key.length !== 1) return;
    field.focus();
  });

  document.querySelectorAll("button[data-confirm]").forEach(function (button) {
    button.addEventListener("click", function (event) {
      if (!window.confirm(button.getAttribute("data-confirm"))) event.preventDefault();
    });
  });

  var toggle = document.getElementById("keyboard-toggle");
  if (toggle) {
    // On a phone with a Bluetooth scanner the on-screen keyboard only hides the page.
    var setKeyboard = function (shown) {
      field.setAttribute("inputmode", shown ? "text" : "none");
      toggle.setAttribute("aria-pressed", shown ? "false" : "true");
      try { localStorage.setItem("phien-desk-keyboard", shown ? "text" : "none"); } catch (e) { /* private mode */ }
    };
    var stored = null;
    try { stored = localStorage.getItem("phien-desk-keyboard"); } catch (e) { /* private mode */ }
    toggle.hidden = false;
    setKeyboard(stored !== "none");
    toggle.addEventListener("click", function () {
      setKeyboard(field.getAttribute("inputmode") === "none");
      field.blur();
      field.focus();
    });
  }
})();
