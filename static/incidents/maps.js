/* Small Leaflet maps for incident pages. No tiles unless the city configures a
 * tile server: the grid polygons themselves are the map, so a pick still means
 * something on an intranet with no base map. Served by the portal (CSP 'self'). */
(function () {
  "use strict";

  var REGION_STYLE = { color: "#b91c1c", weight: 2, opacity: 0.9, fillColor: "#fca5a5", fillOpacity: 0.18 };
  var POINT_STYLE = { radius: 9, color: "#fff", weight: 3, fillColor: "#1d4ed8", fillOpacity: 1 };

  function readConfig(el) {
    var source = document.getElementById(el.getAttribute("data-map-config"));
    return source ? JSON.parse(source.textContent) : { regions: [] };
  }

  function regionFeatures(regions) {
    return {
      type: "FeatureCollection",
      features: regions.map(function (r) {
        return { type: "Feature", properties: { id: r.id, name: r.name }, geometry: r.boundary };
      })
    };
  }

  /* Build a map in `el` from its JSON config; returns {map, config, regionsLayer, setPoint}. */
  function create(el, options) {
    options = options || {};
    var config = readConfig(el);
    var map = L.map(el, {
      attributionControl: Boolean(config.tiles),
      zoomSnap: 0.25,
      scrollWheelZoom: options.scrollWheelZoom !== false,
      tap: true
    });
    if (config.tiles) {
      L.tileLayer(config.tiles, { attribution: config.attribution || "", maxZoom: 19 }).addTo(map);
    } else {
      el.classList.add("no-tiles");
    }
    var regionsLayer = L.geoJSON(regionFeatures(config.regions || []), {
      style: function () { return REGION_STYLE; },
      interactive: false,
      onEachFeature: function (feature, layer) {
        if (options.labels !== false && feature.properties.name) {
          layer.bindTooltip(feature.properties.name, { permanent: true, direction: "center", className: "region-label" });
        }
      }
    });

    // The view first, then the layers: Leaflet's renderers want a map that already has one.
    var bounds = regionsLayer.getBounds();
    if (bounds.isValid()) {
      map.fitBounds(bounds, { padding: [12, 12], animate: false });
    } else if (config.point) {
      map.setView(config.point, 16, { animate: false });
    } else {
      map.setView([23.0, 116.0], 10, { animate: false });
    }
    regionsLayer.addTo(map);

    var marker = null;
    function setPoint(lat, lng) {
      if (marker) {
        marker.setLatLng([lat, lng]);
      } else {
        marker = L.circleMarker([lat, lng], POINT_STYLE).addTo(map);
      }
    }
    if (config.point) {
      setPoint(config.point[0], config.point[1]);
    }
    return { map: map, config: config, regionsLayer: regionsLayer, setPoint: setPoint };
  }

  /* Ray casting on one linear ring of [lng, lat] pairs. */
  function inRing(lng, lat, ring) {
    var inside = false;
    for (var i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      var xi = ring[i][0], yi = ring[i][1], xj = ring[j][0], yj = ring[j][1];
      if ((yi > lat) !== (yj > lat) && lng < ((xj - xi) * (lat - yi)) / (yj - yi) + xi) {
        inside = !inside;
      }
    }
    return inside;
  }

  function inPolygon(lng, lat, rings) {
    if (!rings.length || !inRing(lng, lat, rings[0])) return false;
    for (var k = 1; k < rings.length; k++) {
      if (inRing(lng, lat, rings[k])) return false; // a hole
    }
    return true;
  }

  /* The region of `regions` that holds the point, or null (an early hint; the server decides). */
  function regionAt(regions, lat, lng) {
    for (var i = 0; i < regions.length; i++) {
      var g = regions[i].boundary || {};
      var polygons = g.type === "MultiPolygon" ? g.coordinates : g.type === "Polygon" ? [g.coordinates] : [];
      for (var p = 0; p < polygons.length; p++) {
        if (inPolygon(lng, lat, polygons[p])) return regions[i];
      }
    }
    return null;
  }

  window.PortalMaps = { create: create, regionAt: regionAt };
})();
