// Second Transcript — the little the pages need beyond HTML: select-all and confirmations.
document.addEventListener("DOMContentLoaded", function () {
  // A checkbox with data-select-all="NAME" ticks every checkbox named NAME.
  document.querySelectorAll("input[data-select-all]").forEach(function (master) {
    var name = master.getAttribute("data-select-all");
    var boxes = function () {
      return Array.prototype.slice.call(
        document.querySelectorAll('input[type="checkbox"][name="' + name + '"]:not(:disabled)')
      );
    };
    var sync = function () {
      var all = boxes();
      var ticked = all.filter(function (b) { return b.checked; }).length;
      master.checked = all.length > 0 && ticked === all.length;
      master.indeterminate = ticked > 0 && ticked < all.length;
      var counter = document.querySelector('[data-count-of="' + name + '"]');
      if (counter) { counter.textContent = String(ticked); }
    };
    master.addEventListener("change", function () {
      boxes().forEach(function (b) { b.checked = master.checked; });
      sync();
    });
    boxes().forEach(function (b) { b.addEventListener("change", sync); });
    sync();
  });

  // Tables become stacked cards on a phone (app.css): each cell is labelled with its column's
  // heading, unless the template gave it a data-label already.
  document.querySelectorAll(".table-wrap table").forEach(function (table) {
    var heads = [];
    var row = table.querySelector("thead tr");
    if (!row) { return; }
    Array.prototype.forEach.call(row.children, function (th) {
      var span = parseInt(th.getAttribute("colspan") || "1", 10);
      for (var i = 0; i < span; i++) { heads.push(th.classList.contains("check") ? "" : th.textContent.trim()); }
    });
    table.querySelectorAll("tbody tr, tfoot tr").forEach(function (tr) {
      var col = 0;
      Array.prototype.forEach.call(tr.children, function (cell) {
        if (!cell.hasAttribute("data-label") && heads[col] && !cell.hasAttribute("colspan")) {
          cell.setAttribute("data-label", heads[col]);
        }
        col += parseInt(cell.getAttribute("colspan") || "1", 10);
      });
    });
  });

  // A table box that scrolls sideways can be scrolled with the keyboard too.
  var focusable = function () {
    document.querySelectorAll(".table-wrap").forEach(function (box) {
      if (box.scrollWidth > box.clientWidth + 1) {
        box.setAttribute("tabindex", "0");
        if (!box.hasAttribute("role")) { box.setAttribute("role", "region"); }
        if (!box.hasAttribute("aria-label")) {
          var caption = box.querySelector("caption");
          var head = box.previousElementSibling && box.previousElementSibling.querySelector("h2, h3");
          box.setAttribute("aria-label", (caption || head || { textContent: "表格 Table" }).textContent.trim());
        }
      } else if (box.getAttribute("tabindex") === "0") {
        box.removeAttribute("tabindex");
      }
    });
  };
  focusable();
  window.addEventListener("resize", focusable);

  // A form with data-confirm="…" asks before it is sent.
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
    });
  });

  // Disable a form's submit buttons once it is sent, so a double click posts once.
  document.querySelectorAll("form[method='post']").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (event.defaultPrevented) { return; }
      setTimeout(function () {
        form.querySelectorAll("button[type='submit'], button:not([type])").forEach(function (b) {
          b.disabled = true;
          b.setAttribute("aria-busy", "true");
        });
      }, 0);
    });
  });
});
// Back/forward cache: re-enable buttons when a page is shown again.
window.addEventListener("pageshow", function () {
  document.querySelectorAll("button[aria-busy='true']").forEach(function (b) {
    b.disabled = false;
    b.removeAttribute("aria-busy");
  });
});
