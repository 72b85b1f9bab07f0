// The public map: counts per grid cell, single complaints from zoom 15; the page works without
// it (the table per regency), and the map itself without tiles.
(function () {
  "use strict";
  var el = document.getElementById("public-map");
  if (!el || typeof L === "undefined") { return; }
  var labels = JSON.parse(document.getElementById("map-status-labels").textContent);
  var colours = { assigned: "#b45309", in_progress: "#1d4ed8", resolved: "#15803d", closed: "#4b5563" };
  var list = document.getElementById("map-in-view");
  var section = document.getElementById("map-in-view-section");
  el.hidden = false;
  section.hidden = false;
  var lat = parseFloat(el.dataset.lat), lon = parseFloat(el.dataset.lon), zoom = parseInt(el.dataset.zoom, 10);
  var map = L.map(el).setView(
    isNaN(lat) || isNaN(lon) ? [-3.0, 115.2] : [lat, lon],
    isNaN(zoom) ? 8 : zoom
  );
  if (el.dataset.tiles) {
    L.tileLayer(el.dataset.tiles, { maxZoom: 19, attribution: el.dataset.attribution }).addTo(map);
  }
  var layer = L.layerGroup().addTo(map);
  var pending = null;

  function dominant(byStatus) {
    var best = null;
    Object.keys(byStatus).forEach(function (s) { if (best === null || byStatus[s] > byStatus[best]) { best = s; } });
    return best;
  }
  function item(children) {
    var li = document.createElement("li");
    children.forEach(function (c) { li.appendChild(typeof c === "string" ? document.createTextNode(c) : c); });
    list.appendChild(li);
  }
  function draw(data) {
    layer.clearLayers();
    list.textContent = "";
    if (data.kind === "markers") {
      data.markers.forEach(function (m) {
        var colour = colours[m.status] || "#4b5563";
        var link = document.createElement("a");
        link.href = m.url;
        link.textContent = m.title;
        var popup = document.createElement("div");
        popup.appendChild(link.cloneNode(true));
        popup.appendChild(document.createElement("br"));
        popup.appendChild(document.createTextNode(labels[m.status] + " · " + m.supporters + " " + list.dataset.supporters));
        L.circleMarker([m.lat, m.lon], { radius: 8, color: colour, fillColor: colour, fillOpacity: 0.8 })
          .bindPopup(popup).addTo(layer);
        item([link, " — " + labels[m.status] + " · ", spanCount(m.supporters, list.dataset.supporters)]);
      });
    } else {
      data.cells.forEach(function (c) {
        var colour = colours[dominant(c.by_status)] || "#4b5563";
        var parts = Object.keys(c.by_status).map(function (s) { return labels[s] + ": " + c.by_status[s]; });
        L.circleMarker([c.lat, c.lon], {
          radius: Math.min(30, 6 + Math.sqrt(c.count) * 2), color: colour, fillColor: colour, fillOpacity: 0.6
        }).bindTooltip(c.count + " " + list.dataset.complaints + " (" + parts.join(", ") + ")").addTo(layer);
        item([c.count + " " + list.dataset.complaints + " (" + parts.join(", ") + ")"]);
      });
    }
  }
  function spanCount(n, word) {
    var span = document.createElement("span");
    span.className = "supporters";
    span.textContent = n + " " + word;
    return span;
  }
  function load() {
    if (pending) { pending.abort(); }
    pending = new AbortController();
    var q = el.dataset.query ? el.dataset.query + "&" : "";
    var url = el.dataset.url + "?" + q + "zoom=" + map.getZoom() + "&bbox=" + map.getBounds().toBBoxString();
    fetch(url, { signal: pending.signal, headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data) { draw(data); } })
      .catch(function () {});
  }
  map.on("moveend", load);
  load();
})();
