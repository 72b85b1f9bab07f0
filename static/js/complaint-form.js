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
