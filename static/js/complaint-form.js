// Progressive enhancement: a map to drop a pin; the form works without it.
(function () {
  "use strict";
  var mapEl = document.getElementById("map");
  if (!mapEl || typeof L === "undefined") { return; }
  var latInput = document.getElementById(mapEl.dataset.latField);
  var lonInput = document.getElementById(mapEl.dataset.lonField);
  mapEl.hidden = false;
  var help = document.querySelector(".map-help");
  if (help) { help.hidden = false; }
  // Kalimantan Selatan, roughly centred on Banjarbaru.
  var start = [-3.0, 115.2];
  var map = L.map(mapEl).setView(start, 8);
  L.tileLayer("https://tile.openstreetmap.org/{z}/{x}/{y}.png", {
    maxZoom: 19,
    attribution: '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a>'
  }).addTo(map);
  var marker = null;
  function place(latlng) {
    if (marker) { marker.setLatLng(latlng); } else { marker = L.marker(latlng).addTo(map); }
    latInput.value = latlng.lat.toFixed(6);
    lonInput.value = latlng.lng.toFixed(6);
  }
  if (latInput.value && lonInput.value) {
    var point = L.latLng(parseFloat(latInput.value), parseFloat(lonInput.value));
    place(point);
    map.setView(point, 16);
  }
  map.on("click", function (e) { place(e.latlng); });
})();

// "Similar nearby": once a category and a pin (or regency and district) are chosen, show the
// open complaints of that category close by, so a citizen can support one instead.
(function () {
  "use strict";
  var box = document.getElementById("similar");
  if (!box || typeof fetch === "undefined") { return; }
  var names = ["category", "region", "district", "latitude", "longitude"];
  var timer = null;
  function params() {
    var p = new URLSearchParams();
    names.forEach(function (n) {
      var input = document.getElementById("id_" + n);
      if (input && input.value) { p.set(n, input.value); }
    });
    return p;
  }
  function check() {
    var p = params();
    var link = document.getElementById("similar-link");
    if (link) { link.href = box.dataset.url + "?" + p.toString(); }
    if (!p.get("category") || !((p.get("latitude") && p.get("longitude")) || (p.get("region") && p.get("district")))) {
      box.innerHTML = "";
      return;
    }
    p.set("fragment", "1");
    fetch(box.dataset.url + "?" + p.toString(), { headers: { Accept: "text/html" } })
      .then(function (r) { return r.ok ? r.text() : ""; })
      .then(function (html) { box.innerHTML = html; })
      .catch(function () {});
  }
  function later() { clearTimeout(timer); timer = setTimeout(check, 300); }
  names.forEach(function (n) {
    var input = document.getElementById("id_" + n);
    if (input) { input.addEventListener("change", later); input.addEventListener("input", later); }
  });
  // The map's pin writes the fields without events: look again after a click on it.
  var mapEl = document.getElementById("map");
  if (mapEl) { mapEl.addEventListener("click", later); }
  check();
})();
