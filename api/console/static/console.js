// The GOV.UK components' behaviour (the pages work without it), from the app's own copy.
import { initAll } from "/ui/assets/govuk-frontend.min.js";

document.body.className += " js-enabled govuk-frontend-supported";
initAll();

// Sortable tables: a button in each header sorts its column (works without JavaScript as a plain
// table; with it, aria-sort says which column orders the rows).
document.querySelectorAll("table[data-sortable] th[scope=col]").forEach(function (th, index) {
  var button = document.createElement("button");
  button.type = "button";
  button.className = "cl-sort";
  button.textContent = th.textContent;
  th.textContent = "";
  th.appendChild(button);
  button.addEventListener("click", function () {
    var table = th.closest("table");
    var body = table.tBodies[0];
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    table.querySelectorAll("th[scope=col]").forEach(function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = a.cells[index].getAttribute("data-sort") || a.cells[index].textContent.trim();
      var y = b.cells[index].getAttribute("data-sort") || b.cells[index].textContent.trim();
      var nx = parseFloat(x), ny = parseFloat(y);
      var c = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
      return ascending ? c : -c;
    });
    rows.forEach(function (r) { body.appendChild(r); });
  });
});
