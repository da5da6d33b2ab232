/* Filing an incident from a phone on a patchy network.
 *
 * The page works without this script: the form posts to the Django view.
 * With it, the form is sent to the REST API, carrying the idempotency key the
 * form was given once: a retry after a lost answer files the same incident,
 * never a second one. While it is sent, the page says how much went out. A failed submission says so and offers
 * Retry, which resends the same key; a second tap while sending does nothing.
 */
(function () {
  "use strict";

  var form = document.getElementById("file-form");
  if (!form || !window.fetch || !window.FormData) return; // the plain form post still works

  var MSG = JSON.parse(document.getElementById("file-messages").textContent);
  var TREE = JSON.parse(document.getElementById("category-tree").textContent);
  var MAX_PHOTOS = 9;
  var SHRINK_ABOVE_BYTES = 1200 * 1024; // photos larger than this are scaled down before upload
  var SHRINK_TO_PX = 2048;
  // The server's limits (deploy/nginx/portal-proxy.conf), rendered into the form: give up when
  // no byte went out for this long, or when the answer is this late after the last byte. A slow
  // but steady upload (nine photos on Slow 3G take minutes) is never cut short.
  var IDLE_MS = 1000 * (Number(form.getAttribute("data-upload-idle-seconds")) || 60);
  var ANSWER_MS = 1000 * (Number(form.getAttribute("data-upload-answer-seconds")) || 90);

  var statusBox = document.getElementById("submit-status");
  var statusText = statusBox.querySelector("[data-slot=message]");
  var retryButton = statusBox.querySelector("[data-retry]");
  var submitButton = document.getElementById("file-submit");
  var keyInput = form.elements.idempotency_key;
  var categorySelect = form.elements.category;
  var latInput = form.elements.lat;
  var lngInput = form.elements.lng;
  var photoInput = form.elements.photos;
  var readout = document.getElementById("location-readout");
  var busy = false;
  var preparedPhotos = Promise.resolve([]);

  function fmt(text, values) {
    return text.replace(/%\((\w+)\)[sd]/g, function (_m, name) {
      return values && values[name] !== undefined ? values[name] : "";
    }).replace(/%%/g, "%"); // the messages are Python format strings: "%%" is a per cent sign
  }

  /* --- The idempotency key: one per form, kept across retries ------------------ */

  function newKey() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") {
      return window.crypto.randomUUID(); // secure contexts only (https, localhost)
    }
    var bytes = new Uint8Array(16);
    if (window.crypto && window.crypto.getRandomValues) {
      window.crypto.getRandomValues(bytes);
    } else {
      for (var i = 0; i < 16; i++) bytes[i] = Math.floor(Math.random() * 256);
    }
    bytes[6] = (bytes[6] & 0x0f) | 0x40; // version 4
    bytes[8] = (bytes[8] & 0x3f) | 0x80; // variant
    var hex = Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join("");
    return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" + hex.slice(16, 20) + "-" + hex.slice(20);
  }
  if (!keyInput.value) keyInput.value = newKey();

  /* --- Category: major, then minor -------------------------------------------- */

  var majorWrap = document.getElementById("major-wrap");
  var majorSelect = document.getElementById("major-category");
  var placeholder = categorySelect.querySelector("option[value='']");
  TREE.forEach(function (major, index) {
    var option = document.createElement("option");
    option.value = String(index);
    option.textContent = major.name;
    majorSelect.appendChild(option);
  });

  function fillMinor(majorIndex, selectedId) {
    categorySelect.innerHTML = "";
    if (placeholder) categorySelect.appendChild(placeholder);
    var majors = majorIndex === "" ? TREE : [TREE[Number(majorIndex)]];
    majors.forEach(function (major) {
      var parent = categorySelect;
      if (majors.length > 1) {
        parent = document.createElement("optgroup");
        parent.label = major.name;
        categorySelect.appendChild(parent);
      }
      major.children.forEach(function (minor) {
        var option = document.createElement("option");
        option.value = String(minor.id);
        option.textContent = minor.name;
        if (String(minor.id) === String(selectedId)) option.selected = true;
        parent.appendChild(option);
      });
    });
    if (!selectedId && placeholder) placeholder.selected = true;
  }

  var initialCategory = categorySelect.value;
  TREE.forEach(function (major, index) {
    major.children.forEach(function (minor) {
      if (String(minor.id) === initialCategory) majorSelect.value = String(index);
    });
  });
  fillMinor(majorSelect.value, initialCategory);
  majorWrap.hidden = false;
  majorSelect.addEventListener("change", function () {
    fillMinor(majorSelect.value, "");
    if (majorSelect.value !== "") categorySelect.focus();
    checkDuplicates();
  });
  categorySelect.addEventListener("change", checkDuplicates);

  /* --- Location: a tap on the map, or the browser's position ------------------- */

  var picker = null;
  var regions = [];
  var mapEl = document.getElementById("pick-map");
  if (window.L && window.PortalMaps && mapEl) {
    picker = window.PortalMaps.create(mapEl, {});
    regions = picker.config.regions || [];
    picker.map.on("click", function (event) {
      setLocation(event.latlng.lat, event.latlng.lng, null);
    });
  }

  function describe(lat, lng, accuracy) {
    var region = regions.length ? window.PortalMaps.regionAt(regions, lat, lng) : null;
    var parts = [];
    if (regions.length && !region) {
      readout.className = "readout warn";
      parts.push(MSG.outside_regions);
    } else {
      readout.className = "readout ok";
      if (region) parts.push(fmt(MSG.in_region, { name: region.name }));
    }
    if (accuracy) parts.push(fmt(MSG.accuracy, { m: Math.round(accuracy) }));
    readout.textContent = parts.join(" · ");
  }

  function setLocation(lat, lng, accuracy) {
    latInput.value = lat.toFixed(6);
    lngInput.value = lng.toFixed(6);
    clearFieldError("lat");
    if (picker) picker.setPoint(lat, lng);
    describe(lat, lng, accuracy);
    checkDuplicates();
  }

  [latInput, lngInput].forEach(function (input) {
    input.addEventListener("change", function () {
      var lat = parseFloat(latInput.value);
      var lng = parseFloat(lngInput.value);
      if (isFinite(lat) && isFinite(lng)) {
        if (picker) {
          picker.setPoint(lat, lng);
          picker.map.panTo([lat, lng]);
        }
        describe(lat, lng, null);
        checkDuplicates();
      }
    });
  });
  if (latInput.value && lngInput.value) {
    var lat0 = parseFloat(latInput.value);
    var lng0 = parseFloat(lngInput.value);
    if (isFinite(lat0) && isFinite(lng0)) {
      if (picker) picker.setPoint(lat0, lng0);
      describe(lat0, lng0, null);
    }
  }

  var locateButton = document.getElementById("use-location");
  if (navigator.geolocation) {
    locateButton.hidden = false;
    locateButton.addEventListener("click", function () {
      readout.className = "readout";
      readout.textContent = MSG.locating;
      locateButton.disabled = true;
      navigator.geolocation.getCurrentPosition(function (position) {
        locateButton.disabled = false;
        var c = position.coords;
        setLocation(c.latitude, c.longitude, c.accuracy);
        if (picker) picker.map.setView([c.latitude, c.longitude], Math.max(picker.map.getZoom(), 16));
      }, function (error) {
        locateButton.disabled = false;
        readout.className = "readout warn";
        // the page's own words for each reason: the browser's error.message is English ("User denied Geolocation")
        readout.textContent = { 1: MSG.geo_denied, 2: MSG.geo_unavailable, 3: MSG.geo_timeout }[error.code] || MSG.geo_failed;
        // a tap asks for a fresh fix (maximumAge 0): a cached one may be from where the worker stood a minute ago
      }, { enableHighAccuracy: true, timeout: 20000, maximumAge: 0 });
    });
  }

  /* --- Possible duplicates nearby ---------------------------------------------- */

  var duplicatesBox = document.getElementById("duplicates");
  var duplicatesList = duplicatesBox.querySelector("ul");
  var duplicatesTimer = null;
  var duplicatesSeq = 0;
  var duplicatesLayer = picker ? L.layerGroup().addTo(picker.map) : null;
  var DUPLICATE_STYLE = { radius: 7, color: "#fff", weight: 2, fillColor: "#d97706", fillOpacity: 1 };

  function detailUrl(id) {
    return form.getAttribute("data-detail-url").replace(/\/0\/$/, "/" + id + "/");
  }

  function checkDuplicates() {
    clearTimeout(duplicatesTimer);
    duplicatesTimer = setTimeout(loadDuplicates, 300);
  }

  function loadDuplicates() {
    var category = categorySelect.value;
    var lat = latInput.value;
    var lng = lngInput.value;
    if (!category || !lat || !lng) {
      duplicatesBox.hidden = true;
      if (duplicatesLayer) duplicatesLayer.clearLayers();
      return;
    }
    var seq = ++duplicatesSeq;
    var url = form.getAttribute("data-duplicates-url") + "?" + new URLSearchParams({ category: category, lat: lat, lng: lng });
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : []; })
      .then(function (data) {
        if (seq !== duplicatesSeq) return; // a newer pick is on its way
        var rows = Array.isArray(data) ? data : data.results || [];
        duplicatesList.innerHTML = "";
        if (duplicatesLayer) duplicatesLayer.clearLayers();
        rows.forEach(function (row) {
          if (duplicatesLayer && isFinite(row.lat) && isFinite(row.lng)) {
            L.circleMarker([row.lat, row.lng], DUPLICATE_STYLE).bindTooltip(row.number || "").addTo(duplicatesLayer);
          }
          var item = document.createElement("li");
          var link = document.createElement("a");
          link.href = row.id !== undefined ? detailUrl(row.id) : row.url || "#";
          link.target = "_blank";
          var number = document.createElement("span");
          number.className = "mono";
          number.textContent = row.number || "";
          link.appendChild(number);
          link.appendChild(document.createTextNode(" " + (row.title || "")));
          item.appendChild(link);
          var meta = [row.status_display || row.status_label || "", row.reported_at ? String(row.reported_at).slice(0, 16).replace("T", " ") : ""];
          var distance = row.distance_m !== undefined ? row.distance_m : row.distance;
          if (distance !== undefined && distance !== null) meta.push(fmt(MSG.distance, { m: Math.round(distance) }));
          var small = document.createElement("small");
          small.className = "hint";
          small.textContent = " " + meta.filter(Boolean).join(" · ");
          item.appendChild(small);
          duplicatesList.appendChild(item);
        });
        duplicatesBox.hidden = rows.length === 0;
      })
      .catch(function () { /* a hint only: the filing does not depend on it */ });
  }

  /* --- Photos: previews, and smaller files for slow networks --------------------- */

  var previews = document.getElementById("photo-previews");

  function shrink(file) {
    if (file.size <= SHRINK_ABOVE_BYTES || !/^image\/(jpeg|png|webp)$/.test(file.type) || !window.createImageBitmap) {
      return Promise.resolve(file);
    }
    return window.createImageBitmap(file, { imageOrientation: "from-image" }).then(function (bitmap) {
      var scale = Math.min(1, SHRINK_TO_PX / Math.max(bitmap.width, bitmap.height));
      var canvas = document.createElement("canvas");
      canvas.width = Math.round(bitmap.width * scale);
      canvas.height = Math.round(bitmap.height * scale);
      canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      return new Promise(function (resolve) {
        canvas.toBlob(function (blob) {
          if (!blob || blob.size >= file.size) return resolve(file);
          var name = file.name.replace(/\.\w+$/, "") + ".jpg";
          resolve(new File([blob], name, { type: "image/jpeg" }));
        }, "image/jpeg", 0.85);
      });
    }).catch(function () { return file; }); // the server checks and re-encodes anyway
  }

  photoInput.addEventListener("change", function () {
    var files = Array.prototype.slice.call(photoInput.files || []);
    clearFieldError("photos");
    previews.innerHTML = "";
    if (files.length > MAX_PHOTOS) {
      showFieldError("photos", MSG.too_many_photos);
    }
    files.forEach(function (file) {
      var img = document.createElement("img");
      img.alt = file.name;
      img.width = 96;
      img.height = 72;
      img.src = URL.createObjectURL(file);
      img.addEventListener("load", function () { URL.revokeObjectURL(img.src); });
      previews.appendChild(img);
    });
    // Prepared once per choice, so a retry sends exactly the same bytes.
    preparedPhotos = Promise.all(files.map(shrink));
  });

  /* --- Messages and field errors --------------------------------------------- */

  var FIELD_ANCHORS = { lat: ".coords-row", lng: ".coords-row", location: ".coords-row", photos: ".photo-picker" };

  function anchorFor(name) {
    if (FIELD_ANCHORS[name]) return form.querySelector(FIELD_ANCHORS[name]);
    var input = form.elements[name];
    if (!input || !input.closest) return null;
    return input.closest("label") || input;
  }

  function showFieldError(name, text) {
    var anchor = anchorFor(name);
    if (!anchor) return false;
    var key = name === "lng" || name === "location" ? "lat" : name;
    var existing = form.querySelector(".js-error[data-for='" + key + "']");
    if (existing) {
      existing.textContent += " " + text;
      return true;
    }
    var div = document.createElement("div");
    div.className = "field-error js-error";
    div.setAttribute("data-for", key);
    div.textContent = text;
    anchor.insertAdjacentElement("afterend", div);
    return true;
  }

  function clearFieldError(name) {
    form.querySelectorAll(".js-error[data-for='" + name + "']").forEach(function (el) { el.remove(); });
  }

  function clearErrors() {
    form.querySelectorAll(".js-error, .field-error").forEach(function (el) { el.remove(); });
  }

  function say(text, kind, retry) {
    statusBox.hidden = false;
    statusBox.className = "submit-status " + (kind || "");
    statusText.textContent = text;
    retryButton.hidden = !retry;
    if (kind === "failed" || kind === "invalid") statusBox.scrollIntoView({ block: "center", behavior: "smooth" });
  }

  function setBusy(value) {
    busy = value;
    submitButton.disabled = value;
    retryButton.disabled = value;
    form.setAttribute("aria-busy", value ? "true" : "false");
  }

  function checkLocally() {
    var problems = [];
    if (!categorySelect.value) problems.push(["category", MSG.need_category]);
    if (!latInput.value || !lngInput.value) problems.push(["lat", MSG.need_location]);
    if (!form.elements.title.value.trim()) problems.push(["title", MSG.need_title]);
    if ((photoInput.files || []).length > MAX_PHOTOS) problems.push(["photos", MSG.too_many_photos]);
    return problems;
  }

  /* --- Sending ------------------------------------------------------------------ */

  function csrfToken() {
    return form.elements.csrfmiddlewaretoken.value;
  }

  function body(photos) {
    var data = new FormData(form);
    data.delete("photos");
    data.delete("csrfmiddlewaretoken");
    photos.forEach(function (file) { data.append("photos", file, file.name); });
    return data;
  }

  function megabytes(bytes) {
    return (bytes / (1024 * 1024)).toFixed(1) + " MB";
  }

  /* XMLHttpRequest, not fetch(): only it tells how much of the upload went out, which is
     what the grid worker needs to see, and what the page's patience is measured by. */
  function post(url, data, onProgress) {
    return new Promise(function (resolve, reject) {
      var xhr = new XMLHttpRequest();
      var watchdog = null;
      function wait(ms) {
        clearTimeout(watchdog);
        watchdog = setTimeout(function () { xhr.abort(); }, ms);
      }
      xhr.open("POST", url);
      xhr.withCredentials = true;
      xhr.setRequestHeader("X-CSRFToken", csrfToken());
      xhr.setRequestHeader("Idempotency-Key", keyInput.value);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.onprogress = function (event) {
        wait(IDLE_MS); // bytes are moving: the idle clock starts again
        if (event.lengthComputable) onProgress(event.loaded, event.total);
      };
      xhr.upload.onload = function () { wait(ANSWER_MS); onProgress(-1, 0); };
      xhr.onload = function () { clearTimeout(watchdog); resolve({ status: xhr.status, text: xhr.responseText }); };
      xhr.onerror = xhr.onabort = xhr.ontimeout = function () { clearTimeout(watchdog); reject(new Error("network")); };
      wait(IDLE_MS);
      xhr.send(data);
    });
  }

  function send() {
    if (busy) return;
    setBusy(true);
    say(MSG.sending, "sending", false);
    var lastSaid = 0;

    preparedPhotos.then(function (photos) {
      return post(form.getAttribute("data-api-url"), body(photos), function (loaded, total) {
        if (loaded < 0) {
          say(MSG.waiting, "sending", false);
        } else if (total && Date.now() - lastSaid > 500) {
          lastSaid = Date.now();
          say(fmt(MSG.sending_progress, { percent: Math.floor(100 * loaded / total), size: megabytes(total) }),
              "sending", false);
        }
      });
    }).then(function (answer) {
      var data = null;
      try { data = answer.text ? JSON.parse(answer.text) : null; } catch (e) { data = null; }
      handleAnswer(answer.status, data);
    }).catch(function () {
      setBusy(false);
      say(MSG.network, "failed", true);
    });
  }

  function handleAnswer(status, data) {
    if (status === 200 || status === 201) {
      var incident = (data && (data.incident || data)) || {};
      form.dataset.filed = "1";
      say(fmt(MSG.done, { number: incident.number || "" }), "done", false);
      window.location.assign(incident.id !== undefined ? detailUrl(incident.id) : form.getAttribute("data-detail-url").replace(/0\/$/, ""));
      return;
    }
    setBusy(false);
    var error = data && data.error;
    var retryable = status === 0 || status === 408 || status === 429 || status >= 500 || !error;
    if (retryable) {
      say(fmt(MSG.server, { status: status }), "failed", true);
      return;
    }
    // The server read the submission and refused it: say why, next to the field.
    clearErrors();
    var fields = error.fields || {};
    var unplaced = [];
    Object.keys(fields).forEach(function (name) {
      var texts = [].concat(fields[name]).map(String);
      if (!showFieldError(name, texts.join(" "))) unplaced = unplaced.concat(texts);
    });
    var locationCodes = { outside_city: 1, not_your_grid: 1 };
    if (locationCodes[error.code] && !fields.lat) showFieldError("lat", error.message);
    if (/^photo_/.test(error.code || "") && !fields.photos) showFieldError("photos", error.message);
    say([error.message || MSG.invalid].concat(unplaced).join(" "), "invalid", false);
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (busy) return; // a second tap while sending
    clearErrors();
    var problems = checkLocally();
    if (problems.length) {
      problems.forEach(function (p) { showFieldError(p[0], p[1]); });
      say(MSG.invalid, "invalid", false);
      return;
    }
    send();
  });
  retryButton.addEventListener("click", send); // the same form, the same key

  // Coming back to a page that was already filed (the back button): start a new form.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted && form.dataset.filed === "1") {
      form.reset();
      form.dataset.filed = "";
      keyInput.value = newKey();
      previews.innerHTML = "";
      preparedPhotos = Promise.resolve([]);
      statusBox.hidden = true;
      readout.textContent = "";
      setBusy(false);
    }
  });
})();
