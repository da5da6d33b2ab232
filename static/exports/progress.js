/* Progress of a background export: poll its status every 2 s; once it is finished, show the page again
   (the server writes the download link, the expiry and any error, in the page's language). */
(function () {
  "use strict";
  var box = document.getElementById("export-progress");
  if (!box) { return; }
  var url = box.getAttribute("data-status-url");
  var finished = { done: true, failed: true, expired: true };
  if (finished[box.getAttribute("data-status")]) { return; }
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) {
        if (!r.ok) { throw new Error(String(r.status)); }
        return r.json();
      })
      .then(function (s) {
        if (finished[s.status]) { window.location.reload(); return; }
        document.getElementById("export-bar").value = s.progress;
        // The status in words comes from the page (data-status-*), in the page's language.
        var total = s.total === null ? "…" : s.total;
        document.getElementById("export-text").textContent =
          (box.getAttribute("data-status-" + s.status) || s.status) + " · " + s.done + " / " + total;
        setTimeout(poll, 2000);
      })
      .catch(function () { setTimeout(poll, 5000); });
  }
  setTimeout(poll, 1000);
})();
