/* The mediation figures' map: open cases by street (polygons, darker for more) and red-risk cases (circles at
 * each street's centre) as two layers. No tiles unless the city configures a tile server: the polygons are
 * the map. Served by the portal (CSP 'self'); the words come from the page (json_script). */
(function () {
  "use strict";
  var el = document.getElementById("mediation-map");
  if (!el || typeof L === "undefined") { return; }
  var config = JSON.parse(document.getElementById(el.getAttribute("data-map-config")).textContent);
  var map = L.map(el, { attributionControl: Boolean(config.tiles), zoomSnap: 0.25 });
  if (config.tiles) {
    L.tileLayer(config.tiles, { attribution: config.attribution || "", maxZoom: 19 }).addTo(map);
  }
  var most = Math.max.apply(null, config.regions.map(function (r) { return r.open; }).concat([1]));
  var streets = L.geoJSON({
    type: "FeatureCollection",
    features: config.regions.map(function (r) {
      return { type: "Feature", properties: r, geometry: r.boundary };
    })
  }, {
    style: function (f) {
      return { color: "#1d4ed8", weight: 1.5, fillColor: "#3b82f6", fillOpacity: 0.1 + 0.6 * f.properties.open / most };
    },
    onEachFeature: function (f, layer) {
      layer.bindTooltip(f.properties.name + " · " + f.properties.open, { sticky: true });
    }
  }).addTo(map);
  var red = L.layerGroup(config.regions.filter(function (r) { return r.red > 0; }).map(function (r) {
    return L.circleMarker([r.lat, r.lng], { radius: 6 + Math.sqrt(r.red) * 3, color: "#fff", weight: 2,
                                            fillColor: "#dc2626", fillOpacity: 0.9 })
      .bindTooltip(r.name + " · " + r.red);
  })).addTo(map);
  var layers = {};
  layers[config.labels.open] = streets;
  layers[config.labels.red] = red;
  L.control.layers(null, layers, { collapsed: false }).addTo(map);
  var bounds = streets.getBounds();
  if (bounds.isValid()) { map.fitBounds(bounds, { padding: [10, 10] }); } else { map.setView([23.35, 116.68], 11); }
  el.setAttribute("data-ready", "1");
})();
