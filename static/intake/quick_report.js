// The resident's page: an optional location, and a draft kept on the phone so that a report typed
// where the network is poor is not lost when sending fails; the tracking page forgets the draft.
(function () {
  var script = document.currentScript;
  var KEY = "intake-draft:" + location.pathname;
  var form = document.querySelector("form.intake-form[enctype]");
  var store = null;
  try { store = window.localStorage; } catch (e) { store = null; }

  if (form && store) {
    var fields = ["category", "description", "phone"];
    try {
      var draft = JSON.parse(store.getItem(KEY) || "{}");
      fields.forEach(function (name) {
        var input = form.elements[name];
        if (input && !input.value && draft[name]) input.value = draft[name];
      });
    } catch (e) { store.removeItem(KEY); }
    form.addEventListener("input", function () {
      var draft = {};
      fields.forEach(function (name) { if (form.elements[name]) draft[name] = form.elements[name].value; });
      store.setItem(KEY, JSON.stringify(draft));
    });
  }
  if (script.dataset.forget && store) {
    Object.keys(store).forEach(function (key) { if (key.indexOf("intake-draft:") === 0) store.removeItem(key); });
  }

  var button = document.getElementById("locate");
  var status = document.getElementById("located");
  if (!button) return;
  if (!navigator.geolocation) { button.hidden = true; return; }
  button.addEventListener("click", function () {
    navigator.geolocation.getCurrentPosition(function (pos) {
      document.getElementById("id_lat").value = pos.coords.latitude.toFixed(6);
      document.getElementById("id_lng").value = pos.coords.longitude.toFixed(6);
      status.textContent = script.dataset.located;
    }, function () { status.textContent = script.dataset.failed; }, {timeout: 10000, maximumAge: 60000});
  });
})();
