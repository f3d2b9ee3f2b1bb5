// The buy page without round trips: communes of the chosen province, and the running total.
// The form works without this file (the server lists the communes and checks everything).
(function () {
  "use strict";
  var form = document.querySelector(".buy-form");
  if (!form) return;
  var province = form.querySelector("#province");
  var ward = form.querySelector("#ward");
  Array.prototype.forEach.call(form.querySelectorAll("[data-no-js]"), function (el) {
    el.parentNode.removeChild(el);
  });

  function fillWards(places) {
    var first = ward.options[0];
    ward.length = 0;
    first.textContent = ward.getAttribute("data-pick") || first.textContent;
    ward.appendChild(first);
    places.forEach(function (place) {
      var option = document.createElement("option");
      option.value = place.code;
      option.textContent = place.name;
      ward.appendChild(option);
    });
    ward.disabled = false;
  }

  if (province && ward) {
    province.addEventListener("change", function () {
      if (!province.value) { fillWards([]); return; }
      ward.disabled = true;
      fetch(province.getAttribute("data-places-url") + encodeURIComponent(province.value),
            { headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : []; })
        .then(fillWards)
        .catch(function () { ward.disabled = false; });
    });
  }

  // Plus and minus beside each quantity: easier to hit with a thumb than the number spinner.
  Array.prototype.forEach.call(form.querySelectorAll(".qty input"), function (input) {
    function step(sign, label) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "step";
      button.textContent = sign > 0 ? "+" : "\u2212";
      button.setAttribute("aria-label", label);
      button.addEventListener("click", function () {
        var now = parseInt(input.value, 10) || 0;
        input.value = Math.max(0, Math.min(parseInt(input.max, 10) || 99, now + sign));
        input.dispatchEvent(new Event("input", { bubbles: true }));
      });
      return button;
    }
    input.parentNode.insertBefore(step(-1, form.getAttribute("data-less")), input);
    input.parentNode.appendChild(step(1, form.getAttribute("data-more")));
  });

  var invalid = form.querySelector("[aria-invalid=true]");
  if (invalid) invalid.focus();

  var total = form.querySelector("[data-total]");
  var value = form.querySelector("[data-total-value]");
  var lang = document.documentElement.lang === "en" ? "en-GB" : "vi-VN";
  function sum() {
    var amount = 0;
    Array.prototype.forEach.call(form.querySelectorAll(".product"), function (row) {
      var qty = parseInt(row.querySelector("input").value, 10);
      if (qty > 0 && qty < 100) amount += qty * parseInt(row.getAttribute("data-price"), 10);
    });
    value.textContent = amount.toLocaleString(lang);
    total.hidden = amount === 0;
  }
  if (total && value) {
    form.addEventListener("input", sum);
    sum();
  }
})();
