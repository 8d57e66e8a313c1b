// The graduation batch's page: its figures follow progress.json every second while it runs;
// when it ends the page reloads once to show the ZIPs (a reload at any time shows the same figures).
(function () {
  "use strict";
  const box = document.querySelector(".batch-progress[data-progress-url]");
  if (!box || box.dataset.live !== "true") return;
  const el = function (id) { return document.getElementById(id); };

  function show(p) {
    el("batch-status").textContent = p.status_label;
    el("batch-bar").value = p.done + p.failed;
    el("batch-bar").max = p.total;
    el("batch-bar").textContent = p.percent + "%";
    el("batch-done").textContent = p.done;
    el("batch-failed").textContent = p.failed;
    el("batch-rate").textContent = p.rate_text;
    el("batch-left").textContent = p.time_left_text;
    el("batch-issued").textContent = p.issued_text;
    if (!p.live) { window.location.reload(); return false; }
    return true;
  }

  function poll() {
    fetch(box.dataset.progressUrl, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (p) { if (show(p)) setTimeout(poll, 1000); })
      .catch(function () { setTimeout(poll, 3000); });  // a dropped connection: try again a little later
  }
  setTimeout(poll, 1000);
})();
