/* The incident detail page: the small location map, opening the action asked for
 * by the address (#act-dispatch), and one submit per action form. */
(function () {
  "use strict";

  var mapEl = document.getElementById("incident-map");
  if (mapEl && window.L && window.PortalMaps) {
    window.PortalMaps.create(mapEl, { scrollWheelZoom: false, labels: false });
  }

  function openFromHash() {
    if (!location.hash || location.hash.indexOf("#act-") !== 0) return;
    var target = document.getElementById(location.hash.slice(1));
    if (target && target.tagName === "DETAILS") {
      target.open = true;
      target.scrollIntoView({ block: "start" });
      var first = target.querySelector("select, textarea, input:not([type=hidden])");
      if (first) first.focus({ preventScroll: true });
    }
  }
  openFromHash();
  window.addEventListener("hashchange", openFromHash);

  // Verification: a rating belongs to a pass only.
  var verify = document.getElementById("act-verify");
  if (verify) {
    var rating = verify.querySelector("select[name$='satisfaction']");
    var ratingLabel = rating ? rating.closest("label") : null;
    var sync = function () {
      var checked = verify.querySelector("input[name$='result']:checked");
      if (ratingLabel) ratingLabel.hidden = Boolean(checked && checked.value === "fail");
    };
    verify.addEventListener("change", sync);
    sync();
  }

  // A second tap on a slow connection must not send the action twice.
  document.querySelectorAll(".actions form").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.sent === "1") {
        event.preventDefault();
        return;
      }
      form.dataset.sent = "1";
      var button = form.querySelector("button[type=submit]");
      if (button) button.setAttribute("aria-busy", "true");
    });
  });
  window.addEventListener("pageshow", function () {
    document.querySelectorAll(".actions form").forEach(function (form) { form.dataset.sent = ""; });
  });
})();
