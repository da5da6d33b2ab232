// The resident's location, only when asked for and only if the phone gives it; the form works without it.
(function () {
  var button = document.getElementById("locate");
  var status = document.getElementById("located");
  var script = document.currentScript;
  if (!button || !navigator.geolocation) { if (button) button.hidden = true; return; }
  button.addEventListener("click", function () {
    navigator.geolocation.getCurrentPosition(function (pos) {
      document.getElementById("id_lat").value = pos.coords.latitude.toFixed(6);
      document.getElementById("id_lng").value = pos.coords.longitude.toFixed(6);
      status.textContent = script.dataset.located;
    }, function () { status.textContent = script.dataset.failed; }, {timeout: 10000, maximumAge: 60000});
  });
})();
