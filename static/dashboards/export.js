/* Progress of a background export: poll its status every 2 s until done. */
(function () {
  "use strict";
  var box = document.getElementById("export-progress");
  if (!box) { return; }
  var url = box.getAttribute("data-status-url");
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (s) {
        document.getElementById("export-bar").value = s.progress;
        // The status in words comes from the page (data-status-*), in the page's language.
        document.getElementById("export-text").textContent = (box.getAttribute("data-status-" + s.status) || s.status) + " · " + s.done + " / " + s.total;
        if (s.download_url) {
          var link = document.getElementById("export-download");
          link.href = s.download_url;
          link.hidden = false;
        }
        if (s.error) {
          var err = document.getElementById("export-error");
          err.textContent = s.error;
          err.hidden = false;
        }
        if (s.status !== "done" && s.status !== "failed") { setTimeout(poll, 2000); }
      })
      .catch(function () { setTimeout(poll, 5000); });
  }
  poll();
})();
