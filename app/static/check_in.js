// The venue screen: fetch the next code when this one expires, and the count of who came.
(function () {
  "use strict";
  const venue = document.querySelector(".venue[data-code-url]");
  if (!venue) return;
  const qr = document.getElementById("venue-qr");
  const count = document.getElementById("venue-count");
  const latest = document.getElementById("venue-latest");
  const countdown = document.getElementById("venue-countdown");
  let expires = Date.parse(venue.dataset.expires);

  function show(state) {
    const svg = new DOMParser().parseFromString(state.svg, "image/svg+xml").documentElement;
    qr.replaceChildren(document.importNode(svg, true));
    count.textContent = state.count;
    latest.replaceChildren(...state.latest.map(function (p) {
      const item = document.createElement("li");
      const muted = document.createElement("span");
      muted.className = "muted";
      muted.textContent = p.number + " · " + p.at;
      item.append(p.name + " ", muted);
      return item;
    }));
    expires = Date.parse(state.expires_at);
  }

  function refresh() {
    fetch(venue.dataset.codeUrl, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(show)
      .catch(function () { expires = Date.now() + 2000; });  // try again shortly
  }

  setInterval(function () {
    const left = Math.max(0, Math.ceil((expires - Date.now()) / 1000));
    countdown.textContent = left + " s";
    if (Date.now() >= expires) { expires = Date.now() + 60000; refresh(); }
  }, 250);
})();
