// Progressive enhancement of a field order form (the weight inputs of
// /admin/structure/types/{type}/fields): "Move up" / "Move down" buttons beside each field
// move its row and renumber every weight, so the order is set without typing numbers (the first
// row offers no "Move up", the last no "Move down": they would do nothing). The form and its
// "Save order" button stay what they are without JavaScript.
"use strict";
(function () {
  function rows(fieldset) {
    return Array.from(fieldset.querySelectorAll(".form-item")).filter(function (row) {
      return row.querySelector("input.field-order__weight");
    });
  }
  function renumber(fieldset) {
    rows(fieldset).forEach(function (row, index) {
      row.querySelector("input.field-order__weight").value = String(index);
    });
  }
  function offer(fieldset) {
    var all = rows(fieldset);
    all.forEach(function (row, index) {
      row.querySelector(".field-order__up").hidden = index === 0;
      row.querySelector(".field-order__down").hidden = index === all.length - 1;
    });
  }
  function button(text, label, onClick) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "button field-order__move";
    b.textContent = text;
    b.setAttribute("aria-label", label);
    b.addEventListener("click", onClick);
    return b;
  }
  document.querySelectorAll("fieldset.field-order").forEach(function (fieldset) {
    var status = document.createElement("p");
    status.className = "visually-hidden";
    status.setAttribute("role", "status");
    fieldset.appendChild(status);
    rows(fieldset).forEach(function (row) {
      var label = row.querySelector("label");
      // "Weight of Seats (field_seats) *" names the field "Seats".
      var name = label ? label.textContent.replace(/^Weight of /, "").replace(/\s*\*\s*$/, "")
        .replace(/ \([a-z0-9_]+\)$/, "") : "";
      function move(up) {
        var all = rows(fieldset);
        var at = all.indexOf(row);
        var other = all[up ? at - 1 : at + 1];
        if (!other) return;
        if (up) other.before(row); else other.after(row);
        renumber(fieldset);
        offer(fieldset);
        status.textContent = name + " is now at position " + (rows(fieldset).indexOf(row) + 1) + ".";
        // Keep the focus on the button pressed, or on the other one once it is hidden.
        var pressed = row.querySelector(up ? ".field-order__up" : ".field-order__down");
        (pressed.hidden ? row.querySelector(up ? ".field-order__down" : ".field-order__up")
          : pressed).focus();
      }
      var up = button("Move up", "Move up: " + name, function () { move(true); });
      up.classList.add("field-order__up");
      var down = button("Move down", "Move down: " + name, function () { move(false); });
      down.classList.add("field-order__down");
      row.appendChild(up);
      row.appendChild(down);
    });
    offer(fieldset);
  });
})();
