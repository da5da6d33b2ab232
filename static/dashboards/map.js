/* The command-centre map and the big screen (config.bigScreen).
 *
 * Everything comes from /api/v1/map/ (scoped by the server): region polygons with
 * their figures, incidents in the viewport (clustered, never more than the API's
 * hard limit), the numbers and charts, and the alert feed (polled every 15 s).
 * Triage actions go to the incident API's transition endpoints with the CSRF
 * token and the incident's version. No inline script: the config arrives as JSON
 * (json_script), and every text from the server is set with textContent.
 */
(function () {
  "use strict";

  var app = document.getElementById("map-app");
  if (!app) { return; }
  var config = JSON.parse(document.getElementById(app.getAttribute("data-config")).textContent);
  var T = config.labels;
  var big = config.bigScreen;
  var form = document.getElementById("map-filters");
  var statusBox = document.getElementById("map-status");
  var coords = config.tiles.gcj02 ? "gcj02" : "wgs84";

  var SEVERITY_FILL = { normal: "#3b82f6", urgent: "#f59e0b", critical: "#dc2626" };
  var STATUS_STROKE = {
    reported: "#1e3a8a", accepted: "#0f766e", dispatched: "#0f766e", handled: "#7c3aed",
    returned: "#78350f", parked: "#78350f", closed: "#9ca3af", voided: "#9ca3af", merged: "#9ca3af"
  };
  var TRIAGE_ACTIONS = ["accept", "dispatch", "escalate", "return"];

  // --- helpers ---------------------------------------------------------------------------------

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") { node.textContent = attrs[key]; }
      else if (key === "className") { node.className = attrs[key]; }
      else { node.setAttribute(key, attrs[key]); }
    });
    (children || []).forEach(function (child) { if (child) { node.appendChild(child); } });
    return node;
  }

  function fmt(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_, key) { return values[key]; });
  }

  function csrfToken() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    if (input) { return input.value; }
    var match = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  // The big screen has no form: it asks exactly what the map page asks before any filter is touched
  // (config.baseQuery, empty), so its figures are the map page's and those of the incident list.
  function filterParams() {
    var params = new URLSearchParams(config.baseQuery || "");
    if (!form) { return params; }
    var skip = { csrfmiddlewaretoken: 1, columns: 1, format: 1, measure: 1, map_level: 1 };
    new FormData(form).forEach(function (value, key) {
      if (!skip[key] && value !== "") { params.append(key, value); }
    });
    return params;
  }

  function getJSON(url, params) {
    var full = params ? url + "?" + params.toString() : url;
    return fetch(full, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(function (r) {
      return r.json().then(function (body) {
        if (!r.ok) { var err = new Error((body.error && body.error.message) || r.status); err.body = body; err.status = r.status; throw err; }
        return body;
      });
    });
  }

  function postJSON(url, data) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(data || {})
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (body) {
        if (!r.ok) { var err = new Error((body.error && body.error.message) || r.status); err.body = body; err.status = r.status; throw err; }
        return body;
      });
    });
  }

  function debounce(fn, ms) {
    var timer = null;
    return function () { clearTimeout(timer); timer = setTimeout(fn, ms); };
  }

  function localTime(iso) {
    if (!iso) { return ""; }
    var d = new Date(iso);
    function two(n) { return (n < 10 ? "0" : "") + n; }
    return d.getFullYear() + "-" + two(d.getMonth() + 1) + "-" + two(d.getDate()) + " " + two(d.getHours()) + ":" + two(d.getMinutes());
  }

  function setStatus(text, warn) {
    statusBox.textContent = text || "";
    statusBox.classList.toggle("warn", Boolean(warn));
  }

  // --- the map ---------------------------------------------------------------------------------

  // maxZoom: the cluster plugin needs one even with no tile layer to lend it.
  var map = L.map("map", { zoomSnap: 0.5, preferCanvas: true, maxZoom: 19, minZoom: 3, attributionControl: Boolean(config.tiles.url),
                           zoomControl: !big });
  if (config.tiles.url) {
    L.tileLayer(config.tiles.url, { attribution: config.tiles.attribution || "", maxZoom: 19 }).addTo(map);
  }
  if (config.bounds) {
    map.fitBounds(config.bounds, { padding: [10, 10] });
  } else {
    map.setView([23.35, 116.68], 10);
  }

  // Regions in a pane of their own below the markers: reloading them must never cover the markers.
  map.createPane("regions").style.zIndex = 350;
  var regionLayer = L.geoJSON(null, { style: regionStyle, onEachFeature: bindRegion, pane: "regions",
                                      renderer: L.canvas({ pane: "regions" }) }).addTo(map);
  var clusters = L.markerClusterGroup({ chunkedLoading: true, showCoverageOnHover: false, maxClusterRadius: 50,
                                        disableClusteringAtZoom: 18 });
  map.addLayer(clusters);
  var regionScale = { max: 0, measure: "open" };

  function measure() {
    var select = document.getElementById("map-measure");
    return select ? select.value : "open";
  }

  function levelInView() {
    var select = document.getElementById("map-level");
    if (select && select.value) { return Number(select.value); }
    var zoom = map.getZoom();
    var level = config.defaultLevel;
    Object.keys(config.levelZooms).forEach(function (key) {
      var lv = Number(key);
      if (lv >= config.defaultLevel && zoom >= config.levelZooms[key] && lv > level) { level = lv; }
    });
    return level;
  }

  function colour(value) {
    if (value === null || value === undefined) { return "#cbd5e1"; }
    var m = regionScale.measure;
    var share = m === "on_time_rate" ? 1 - value : (regionScale.max ? value / regionScale.max : 0);
    if (m !== "on_time_rate" && value === 0) { return "#dcfce7"; }
    var steps = ["#fef3c7", "#fde68a", "#fdba74", "#f97316", "#dc2626", "#991b1b"];
    return steps[Math.min(steps.length - 1, Math.floor(share * steps.length))];
  }

  function regionStyle(feature) {
    return { color: big ? "#60a5fa" : "#7f1d1d", weight: big ? 1.5 : 1.2, opacity: 0.9,
             fillColor: colour(feature.properties.value), fillOpacity: big ? 0.55 : 0.45 };
  }

  function valueText(props) {
    if (regionScale.measure === "on_time_rate") {
      return props.on_time_rate === null ? "–" : Math.round(props.on_time_rate * 100) + "%";
    }
    return String(props.value);
  }

  function bindRegion(feature, layer) {
    var p = feature.properties;
    if (big) {
      // Name over figure: a label as narrow as its name, placed by placeLabels() below.
      var label = el("span", {}, [document.createTextNode(p.name),
        el("span", { className: "figure", text: T.measure[regionScale.measure] + " " + valueText(p) })]);
      layer.bindTooltip(label, { permanent: true, direction: "center", className: "region-label", opacity: 1 });
      return;
    }
    layer.bindTooltip(p.name + " · " + T.measure[regionScale.measure] + " " + valueText(p), { sticky: true });
    layer.on("click", function () { map.fitBounds(layer.getBounds(), { padding: [20, 20] }); });
  }

  // The big screen's labels are permanent: where two would overlap, the one of the region with the smaller
  // figure moves (up, down, then sideways, at most two label heights from its region's centre) to the first
  // free place; when there is none it is hidden, and the region's colour still tells its figure.
  // Biggest figures first, so the regions that matter keep their labels where they belong.
  function rectsOverlap(a, b) {
    return a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
  }

  function placeLabels() {
    if (!big) { return; }
    var frame = map.getContainer().getBoundingClientRect();
    var labels = regionLayer.getLayers().map(function (layer) {
      var tooltip = layer.getTooltip();
      if (!tooltip) { return null; }
      tooltip.options.offset = L.point(0, 0);
      tooltip.update();
      var node = tooltip.getElement();
      if (!node) { return null; }
      node.classList.remove("label-hidden");
      return { tooltip: tooltip, node: node, value: Number(layer.feature.properties.value) || 0,
               name: layer.feature.properties.name };
    }).filter(Boolean);
    labels.sort(function (a, b) { return b.value - a.value || (a.name < b.name ? -1 : 1); });
    var placed = [];
    labels.forEach(function (label) {
      var r = label.node.getBoundingClientRect();
      var w = r.width + 4, h = r.height + 2;
      var moves = [[0, 0], [0, -h], [0, h], [-w / 2, 0], [w / 2, 0], [-w / 2, -h], [w / 2, -h], [-w / 2, h],
                   [w / 2, h], [0, -2 * h], [0, 2 * h]];
      for (var i = 0; i < moves.length; i++) {
        var dx = moves[i][0], dy = moves[i][1];
        var box = { left: r.left + dx - 1, right: r.right + dx + 1, top: r.top + dy - 1, bottom: r.bottom + dy + 1 };
        var inside = box.left >= frame.left && box.right <= frame.right && box.top >= frame.top && box.bottom <= frame.bottom;
        if (inside && !placed.some(function (other) { return rectsOverlap(box, other); })) {
          if (dx || dy) { label.tooltip.options.offset = L.point(dx, dy); label.tooltip.update(); }
          placed.push(box);
          return;
        }
      }
      label.node.classList.add("label-hidden");
    });
  }
  if (big) { map.on("zoomend", function () { setTimeout(placeLabels, 0); }); }

  function bboxParam(pad) {
    var b = map.getBounds().pad(pad || 0);
    return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (n) { return n.toFixed(5); }).join(",");
  }

  // Regions change with the filters, the level in view and (from level 4) the viewport, of which they are
  // fetched with a margin: a map move that changes none of these and stays inside that margin (the fit
  // once the figures have their height, a small pan) keeps what it has instead of fetching the regions
  // again. The periodic and filter refreshes pass force, as the figures may have changed.
  var regionRequest = 0;
  var regionLoaded = { query: null, bounds: null };
  function loadRegions(force) {
    var params = filterParams();
    var level = levelInView();
    if (params.has("level")) { params.set("responsible_level", params.get("level")); }
    params.set("level", level);
    params.set("measure", measure());
    params.set("coords", coords);
    var query = params.toString();
    var covered = level < 4 || (regionLoaded.bounds && regionLoaded.bounds.contains(map.getBounds()));
    if (!force && query === regionLoaded.query && covered) { return Promise.resolve(); }
    var bounds = null;
    if (level >= 4) { params.set("bbox", bboxParam(0.3)); bounds = map.getBounds().pad(0.3); }
    regionLoaded = { query: query, bounds: bounds };
    var mine = ++regionRequest;
    return getJSON(config.api.regions, params).then(function (collection) {
      if (mine !== regionRequest) { return; }
      regionScale.measure = collection.measure;
      regionScale.max = collection.features.reduce(function (m, f) {
        return Math.max(m, Number(f.properties.value) || 0);
      }, 0);
      regionLayer.clearLayers();
      regionLayer.addData(collection);
      placeLabels();
    }, function (err) { regionLoaded = { query: null, bounds: null }; throw err; });
  }

  var pointRequest = 0;
  function loadIncidents() {
    var mine = ++pointRequest;
    if (map.getZoom() < config.markerZoom) {
      clusters.clearLayers();
      setStatus(big ? "" : T.zoomIn);
      return Promise.resolve();
    }
    var params = filterParams();
    params.set("bbox", bboxParam(0.1));
    params.set("limit", config.maxPoints);
    params.set("coords", coords);
    return getJSON(config.api.incidents, params).then(function (answer) {
      if (mine !== pointRequest) { return; }
      var markers = answer.incidents.map(function (p) {
        var marker = L.circleMarker([p.lat, p.lng], {
          radius: px(p.severity === "critical" ? 12 : (p.severity === "urgent" ? 10 : 8)), // px: the wall's scale
          fillColor: SEVERITY_FILL[p.severity] || "#3b82f6", fillOpacity: 0.9,
          color: p.is_overdue ? "#b91c1c" : (STATUS_STROKE[p.status] || "#111827"),
          weight: px(p.is_overdue ? 4 : 2)
        });
        marker.incident = p;
        marker.bindTooltip(p.number + " · " + (T.status[p.status] || p.status) + (p.is_overdue ? " · " + T.overdueFlag : ""));
        marker.on("click", function () { openIncident(p.id); });
        return marker;
      });
      clusters.clearLayers();
      clusters.addLayers(markers);
      setStatus(answer.truncated ? fmt(T.truncated, { n: answer.count }) : fmt(T.shown, { n: answer.count }),
                answer.truncated);
    });
  }

  function refreshMap(force) {
    return Promise.all([loadRegions(force === true), loadIncidents()]).catch(function () { setStatus(T.failed, true); });
  }

  map.on("moveend", debounce(function () { refreshMap(false); }, 250));

  var DISPUTE_FILL = { open: "#7c3aed", red: "#dc2626" };
  var disputeKey = null;  // the overlay's two colours, in the legend while the overlay is on
  var legend = L.control({ position: "topright" });
  legend.onAdd = function () {
    var box = el("div", { className: "map-legend" });
    Object.keys(SEVERITY_FILL).forEach(function (key) {
      var i = el("i"); i.style.background = SEVERITY_FILL[key];
      box.appendChild(el("div", {}, [i, document.createTextNode(T.severity[key])]));
    });
    var ring = el("i"); ring.style.border = "3px solid #b91c1c"; ring.style.background = "#fff";
    box.appendChild(el("div", {}, [ring, document.createTextNode(T.overdueFlag)]));
    if (config.disputes) {
      disputeKey = el("div", { className: "dispute-key" });
      disputeKey.hidden = true;
      [["open", config.disputes.labels.layer], ["red", config.disputes.labels.red]].forEach(function (k) {
        var dot = el("i"); dot.style.background = DISPUTE_FILL[k[0]];
        disputeKey.appendChild(el("div", {}, [dot, document.createTextNode(k[1])]));
      });
      box.appendChild(disputeKey);
    }
    return box;
  };
  if (!big) { legend.addTo(map); }

  // --- dispute cases: an overlay for those who may see cases (config.disputes) -----------------------
  // Asked from the mediation map API only when switched on, never in the first paint: one circle per street
  // at its centre, sized by its open cases, red where some are red-risk; a click opens the dispute list there.
  var disputes = L.layerGroup();
  var disputeRequest = 0;
  function loadDisputes() {
    var D = config.disputes;
    var mine = ++disputeRequest;
    return getJSON(D.api, new URLSearchParams({ coords: coords })).then(function (rows) {
      if (mine !== disputeRequest) { return; }
      disputes.clearLayers();
      rows.forEach(function (r) {
        var marker = L.circleMarker([r.lat, r.lng], { radius: Math.min(30, 7 + 2 * Math.sqrt(r.open)), color: "#fff",
                                                       weight: 2, fillColor: r.red ? DISPUTE_FILL.red : DISPUTE_FILL.open, fillOpacity: 0.85 });
        marker.dispute = r;
        marker.bindTooltip(r.name + " · " + D.labels.open + " " + r.open + " · " + D.labels.red + " " + r.red);
        var query = { region: r.region, open: "true" };
        if (r.red) { query.risk = "red"; }
        marker.on("click", function () { window.location.assign(D.list + "?" + new URLSearchParams(query)); });
        disputes.addLayer(marker);
      });
    }).catch(function () { setStatus(T.failed, true); });
  }
  if (config.disputes && !big) {
    var overlays = {};
    overlays[config.disputes.labels.layer] = disputes;
    L.control.layers(null, overlays, { position: "topright", collapsed: window.innerWidth < 700 }).addTo(map);
    map.on("overlayadd", function (event) {
      if (event.layer === disputes) { loadDisputes(); if (disputeKey) { disputeKey.hidden = false; } }
    });
    map.on("overlayremove", function (event) {
      if (event.layer === disputes && disputeKey) { disputeKey.hidden = true; }
    });
  }

  // --- numbers and charts ----------------------------------------------------------------------

  var charts = {};
  function chart(id) {
    var node = document.getElementById(id);
    if (!node || typeof echarts === "undefined") { return null; }
    if (!charts[id]) { charts[id] = echarts.init(node, big ? "dark" : null, { renderer: "canvas" }); }
    return charts[id];
  }
  window.addEventListener("resize", debounce(function () {
    Object.keys(charts).forEach(function (k) { charts[k].resize(); });
  }, 200));

  function pct(v) { return v === null || v === undefined ? "–" : (Math.round(v * 1000) / 10) + "%"; }

  function renderFigures(f) {
    var box = document.getElementById("map-figures");
    box.textContent = "";
    [
      [T.newToday, f.new_today, ""], [T.open, f.open, ""], [T.overdue, f.overdue, f.overdue ? "warn" : ""],
      [T.closureRate, pct(f.closure_rate), ""], [T.onTimeRate, pct(f.on_time_rate), ""],
      [T.avgHours, f.avg_handling_hours === null ? "–" : f.avg_handling_hours + " " + T.hours, ""]
    ].forEach(function (item) {
      box.appendChild(el("div", { className: item[2] }, [el("dt", { text: item[0] }), el("dd", { text: String(item[1]) })]));
    });
  }

  var textColour = big ? "#cbd5e1" : "#374151";
  // The big screen scales with the wall (map.css: 1 rem = 16 px at 1920 × 1080); canvas text does not
  // follow CSS, so the charts' sizes are multiplied by the same factor.
  function px(n) {
    if (!big) { return n; }
    return Math.round(n * parseFloat(getComputedStyle(document.documentElement).fontSize) / 16);
  }
  function text(extra) {
    var style = { color: textColour, fontSize: px(12) };
    Object.keys(extra || {}).forEach(function (k) { style[k] = extra[k]; });
    return style;
  }
  function renderCharts(f) {
    var trend = chart("chart-trend");
    if (trend) {
      trend.setOption({
        backgroundColor: "transparent", animation: false,
        grid: { left: px(36), right: px(10), top: px(28), bottom: px(24) },
        tooltip: { trigger: "axis", textStyle: { fontSize: px(14) } },
        legend: { data: [T.reported, T.closed], textStyle: text(), top: 0, itemWidth: px(25), itemHeight: px(14) },
        xAxis: { type: "category", data: f.trend.map(function (d) { return d.day.slice(5); }), axisLabel: text() },
        yAxis: { type: "value", minInterval: 1, axisLabel: text() },
        series: [
          { name: T.reported, type: "line", showSymbol: false, data: f.trend.map(function (d) { return d.reported; }),
            color: "#ef4444", areaStyle: { opacity: 0.15 } },
          { name: T.closed, type: "line", showSymbol: false, data: f.trend.map(function (d) { return d.closed; }),
            color: "#22c55e", areaStyle: { opacity: 0.15 } }
        ]
      }, true);
    }
    function bars(id, rows) {
      var c = chart(id);
      if (!c) { return; }
      rows = rows.slice(0, 10).reverse();
      c.setOption({
        backgroundColor: "transparent", animation: false,
        grid: { left: px(86), right: px(12), top: px(24), bottom: px(18) },
        tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, textStyle: { fontSize: px(14) } },
        legend: { data: [T.open, T.overdue], textStyle: text(), top: 0, itemWidth: px(25), itemHeight: px(14) },
        xAxis: { type: "value", minInterval: 1, axisLabel: text() },
        yAxis: { type: "category", data: rows.map(function (r) { return r.name; }),
                 axisLabel: text({ width: px(80), overflow: "truncate" }) },
        series: [
          { name: T.open, type: "bar", stack: "n", barMaxWidth: px(22), color: "#f59e0b",
            data: rows.map(function (r) { return r.open - r.overdue; }) },
          { name: T.overdue, type: "bar", stack: "n", barMaxWidth: px(22), color: "#dc2626",
            data: rows.map(function (r) { return r.overdue; }) }
        ]
      }, true);
    }
    bars("chart-category", f.by_category);
    bars("chart-region", f.by_region);
  }

  var fitted = false;
  function loadStats() {
    return getJSON(config.api.stats, filterParams()).then(function (f) {
      renderFigures(f);
      renderCharts(f);
      if (!fitted && config.bounds) {
        // The figures above the map take their height only now: fit the territory to the final size.
        fitted = true;
        map.invalidateSize();
        map.fitBounds(config.bounds, { padding: [10, 10] });
      }
    });
  }

  // --- alerts ----------------------------------------------------------------------------------

  function showIncidentAt(alert) {
    if (alert.lat !== null) {
      map.setView([alert.lat, alert.lng], Math.max(map.getZoom(), config.markerZoom + 2));
    }
    if (!big && alert.subject_type === "incident") { openIncident(alert.subject_id); }
  }

  function renderAlerts(answer) {
    var list = document.getElementById("alert-list");
    var count = document.getElementById("alert-count");
    count.textContent = answer.unread ? String(answer.unread) : "";
    list.textContent = "";
    if (!answer.alerts.length) { list.appendChild(el("li", { className: "empty", text: T.noAlerts })); return; }
    answer.alerts.slice(0, big ? 8 : 50).forEach(function (a) {
      var title = el("button", { type: "button", className: "alert-title", text: a.title, title: T.showOnMap });
      title.addEventListener("click", function () { showIncidentAt(a); });
      var meta = el("span", { className: "alert-meta", text: a.kind_label + " · " + a.region + " · " + localTime(a.raised_at) });
      var item = el("li", { className: a.severity + (a.acknowledged ? " acked" : ""), "data-alert": String(a.id) }, [title, meta]);
      if (!big && !a.acknowledged && a.can_acknowledge) {
        var ack = el("button", { type: "button", className: "link ack", text: T.acknowledge });
        ack.addEventListener("click", function () {
          ack.disabled = true;
          postJSON(a.acknowledge_url).then(loadAlerts).catch(function () { ack.disabled = false; });
        });
        item.appendChild(ack);
      } else if (a.acknowledged) {
        item.appendChild(el("span", { className: "alert-meta ack", text: T.acknowledged }));
      }
      list.appendChild(item);
    });
  }

  function loadAlerts() {
    var params = new URLSearchParams({ coords: coords });
    return getJSON(config.api.alerts, params).then(renderAlerts).catch(function () {});
  }

  // --- the incident panel ----------------------------------------------------------------------

  var panel = document.getElementById("incident-panel");

  function incidentUrl(id) { return config.api.incident.replace("/0/", "/" + id + "/"); }

  function openIncident(id, message, isError) {
    if (!panel) { return; }
    panel.hidden = false;
    panel.textContent = T.loading;
    getJSON(incidentUrl(id)).then(function (incident) { renderIncident(incident, message, isError); })
      .catch(function (err) { panel.textContent = err.message; });
  }

  function row(dl, label, value) {
    if (value === null || value === undefined || value === "") { return; }
    dl.appendChild(el("dt", { text: label }));
    dl.appendChild(el("dd", { text: String(value) }));
  }

  function renderIncident(i, message, isError) {
    panel.textContent = "";
    var close = el("button", { type: "button", className: "link", text: "×", "aria-label": T.close });
    close.addEventListener("click", function () { panel.hidden = true; });
    panel.appendChild(el("div", { className: "panel-head" }, [
      el("h2", { text: i.number + " " + i.title }), close
    ]));
    var pills = el("p", {}, [
      el("span", { className: "pill", text: i.status_label }), document.createTextNode(" "),
      el("span", { className: "pill " + i.severity, text: T.severity[i.severity] || i.severity })
    ]);
    if (i.is_overdue) { pills.appendChild(document.createTextNode(" ")); pills.appendChild(el("span", { className: "pill overdue", text: T.overdueFlag })); }
    panel.appendChild(pills);
    if (message) { panel.appendChild(el("p", { className: "panel-msg" + (isError ? " error" : ""), role: "status", text: message })); }
    var dl = el("dl");
    row(dl, T.category, i.category.major ? i.category.major + " / " + i.category.name : i.category.name);
    row(dl, T.grid, i.grid.name);
    row(dl, T.reportedAt, localTime(i.reported_at));
    row(dl, T.dueAt, localTime(i.status === "reported" ? i.accept_due_at : i.handle_due_at));
    row(dl, T.address, i.address);
    row(dl, T.unitLabel, i.lead_unit ? i.lead_unit.name : "");
    row(dl, T.reporter, [i.reporter_name, i.reporter_phone].filter(Boolean).join(" "));
    panel.appendChild(dl);
    if (i.description) { panel.appendChild(el("p", { text: i.description })); }

    if (i.attachments.length) {
      panel.appendChild(el("h3", { text: T.photos }));
      var photos = el("div", { className: "photos" });
      i.attachments.forEach(function (a) {
        photos.appendChild(el("a", { href: a.url, target: "_blank", rel: "noopener" },
                              [el("img", { src: a.thumbnail_url || a.url, alt: "", loading: "lazy", width: "76", height: "76" })]));
      });
      panel.appendChild(photos);
    }

    panel.appendChild(el("h3", { text: T.actions }));
    var actions = i.available_actions.filter(function (a) { return TRIAGE_ACTIONS.indexOf(a.name) >= 0; });
    if (!actions.length) { panel.appendChild(el("p", { className: "hint", text: T.noActions })); }
    actions.forEach(function (action) { panel.appendChild(actionForm(i, action)); });
    panel.appendChild(el("p", {}, [el("a", { href: config.api.incidentPage.replace("/0/", "/" + i.id + "/"), text: T.openPage })]));

    panel.appendChild(el("h3", { text: T.timeline }));
    var timeline = el("ol", { className: "timeline" });
    i.events.slice().reverse().forEach(function (e) {
      var who = e.actor ? e.actor.name : "";
      var what = (T.status[e.to_status] && e.to_status !== e.from_status ? T.status[e.to_status] : e.action);
      timeline.appendChild(el("li", {}, [
        el("time", { datetime: e.at, text: localTime(e.at) }),
        document.createTextNode(what + (who ? " · " + who : "") + (e.note ? " — " + e.note : ""))
      ]));
    });
    panel.appendChild(timeline);
  }

  function actionForm(incident, action) {
    var f = el("form", { className: "action", "data-action": action.name });
    var unitSelect = null;
    var note = null;
    if (action.name === "dispatch") {
      unitSelect = el("select", { name: "unit", required: "required", "aria-label": T.unit },
        [el("option", { value: "", text: T.chooseUnit })].concat(config.units.map(function (u) {
          return el("option", { value: String(u.id), text: u.name });
        })));
      f.appendChild(el("label", {}, [document.createTextNode(T.unit), unitSelect]));
    }
    if (action.needs_note) {
      note = el("textarea", { name: "note", required: "required", "aria-label": T.note });
      f.appendChild(el("label", {}, [document.createTextNode(T.note), note]));
    }
    var button = el("button", { type: "submit", className: "button", text: action.label });
    f.appendChild(button);
    f.addEventListener("submit", function (event) {
      event.preventDefault();
      var data = { version: incident.version };
      if (note) { data.note = note.value; }
      if (unitSelect) { data.unit = Number(unitSelect.value); }
      button.disabled = true;
      postJSON(action.url, data).then(function (updated) {
        renderIncident(updated, fmt(T.done, { action: action.label }));
        refreshAll();
      }).catch(function (err) {
        button.disabled = false;
        if (err.status === 409) { openIncident(incident.id, T.conflict, true); return; }
        var fields = err.body && err.body.error && err.body.error.fields;
        var detail = fields ? Object.keys(fields).map(function (k) { return fields[k].join(" "); }).join(" ") : "";
        f.appendChild(el("p", { className: "panel-msg error", role: "alert", text: err.message + (detail ? " " + detail : "") }));
      });
    });
    return f;
  }

  // --- wiring ----------------------------------------------------------------------------------

  function refreshAll() {
    return Promise.all([refreshMap(true), loadStats().catch(function () { setStatus(T.failed, true); })]);
  }

  if (form) {
    var onChange = debounce(refreshAll, 200);
    form.addEventListener("change", function (event) {
      if (event.target.name === "columns") { return; }
      onChange();
    });
    form.addEventListener("reset", function () { setTimeout(refreshAll, 0); });
    form.addEventListener("submit", function (event) {
      // Only the export buttons submit the form; Enter in a field just refreshes the map.
      if (!event.submitter || event.submitter.name !== "format") { event.preventDefault(); refreshAll(); }
    });
  }

  refreshAll();
  loadAlerts();
  setInterval(loadAlerts, config.alertSeconds * 1000);
  if (big) {
    setInterval(refreshAll, config.refreshSeconds * 1000);
    var clock = document.getElementById("bs-clock");
    var tick = function () { clock.textContent = localTime(new Date().toISOString()).replace(" ", "  "); };
    tick();
    setInterval(tick, 10000);
  } else {
    setInterval(loadStats, config.refreshSeconds * 1000);
  }
  // For people debugging in the console and for the browser tests.
  window.portalMap = {
    map: map, openIncident: openIncident, refresh: refreshAll,
    regionCount: function () { return regionLayer.getLayers().length; },
    charts: charts, placeLabels: placeLabels,
    markerCount: function () { return clusters.getLayers().length; },
    disputes: function () {
      var markers = disputes.getLayers();
      return { streets: markers.length, red: markers.filter(function (m) { return m.options.fillColor === DISPUTE_FILL.red; }).length };
    }
  };
})();
