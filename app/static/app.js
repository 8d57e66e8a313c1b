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
