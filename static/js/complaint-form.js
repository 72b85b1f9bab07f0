// Progressive enhancement: a map to mark the place; the form works without it (then the
// latitude and longitude boxes are shown as they are).
(function () {
  "use strict";
  var mapEl = document.getElementById("map");
  if (!mapEl || typeof L === "undefined") { return; }
  var latInput = document.getElementById(mapEl.dataset.latField);
  var lonInput = document.getElementById(mapEl.dataset.lonField);
  var regionInput = document.getElementById(mapEl.dataset.regionField);
  var seats = JSON.parse(mapEl.dataset.seats || "{}");
  var tools = document.querySelector(".map-tools");
  var status = document.getElementById("map-status");
  var locate = document.getElementById("map-locate");
  var manual = document.getElementById("manual-coords");
  var lang = document.documentElement.lang || "id";
  mapEl.hidden = false;
  tools.hidden = false;
  var help = document.querySelector(".map-help");
  if (help) { help.hidden = false; }
  // The boxes stay folded unless they hold a mistake to correct.
  if (manual && !manual.querySelector(".has-error")) { manual.open = false; }

  // Kalimantan Selatan, roughly centred on Banjarbaru; a chosen regency opens at its seat.
  var province = [-3.0, 115.2];
  function seatOf() {
    return regionInput && seats[regionInput.value];
  }
  var map = L.map(mapEl, { keyboard: true }).setView(seatOf() || province, seatOf() ? 12 : 8);
  L.tileLayer("https://tile.openstreetmap.org/{z}/{x}/{y}.png", {
    maxZoom: 19,
    attribution: '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a>'
  }).addTo(map);
  var marker = null;
  function number(value) {
    return value.toLocaleString(lang, { minimumFractionDigits: 5, maximumFractionDigits: 5 });
  }
  function place(latlng) {
    if (marker) { marker.setLatLng(latlng); } else { marker = L.marker(latlng, { keyboard: false }).addTo(map); }
    latInput.value = latlng.lat.toFixed(6);
    lonInput.value = latlng.lng.toFixed(6);
    latInput.dispatchEvent(new Event("change"));  // who listens (similar nearby) looks again
    status.textContent = status.dataset.placed
      .replace("%(lat)s", number(latlng.lat)).replace("%(lon)s", number(latlng.lng));
  }
  if (latInput.value && lonInput.value) {
    var point = L.latLng(parseFloat(latInput.value), parseFloat(lonInput.value));
    if (!isNaN(point.lat) && !isNaN(point.lng)) {
      place(point);
      map.setView(point, 16);
    }
  }
  map.on("click", function (e) { place(e.latlng); });
  // The keyboard: Leaflet moves the map with the arrow keys; Enter marks the centre.
  mapEl.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && e.target === mapEl) {
      e.preventDefault();
      map.stop();  // a pan still gliding ends here, so the pin goes where the crosshair is
      place(map.getCenter());
    }
  });
  if (regionInput) {
    regionInput.addEventListener("change", function () {
      if (!marker && seatOf()) { map.setView(seatOf(), 12); }
    });
  }
  if (!navigator.geolocation) {
    locate.hidden = true;
  } else {
    locate.addEventListener("click", function () {
      status.textContent = status.dataset.locating;
      navigator.geolocation.getCurrentPosition(function (position) {
        var here = L.latLng(position.coords.latitude, position.coords.longitude);
        map.setView(here, 17);
        place(here);
      }, function () {
        status.textContent = status.dataset.unavailable;
      }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
    });
  }
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
