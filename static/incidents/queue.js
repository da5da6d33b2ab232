/* The triage queue: "Dispatch" opens one shared dialog with the unit picker
 * instead of repeating it on every row. Without this script (or without
 * <dialog>), the button is a link to the detail page's dispatch form. */
(function () {
  "use strict";

  var dialog = document.getElementById("dispatch-dialog");
  if (dialog && typeof dialog.showModal === "function") {
    var form = dialog.querySelector("form");
    document.querySelectorAll("[data-dispatch]").forEach(function (link) {
      link.addEventListener("click", function (event) {
        event.preventDefault();
        form.reset();
        form.dataset.sent = "";
        form.action = link.getAttribute("data-action");
        form.querySelector("[name='act-dispatch-expected_version']").value = link.getAttribute("data-version");
        dialog.querySelector("[data-slot=number]").textContent = link.getAttribute("data-number");
        dialog.querySelector("[data-slot=title]").textContent = link.getAttribute("data-title");
        dialog.showModal();
        form.querySelector("select").focus();
      });
    });
    dialog.querySelector("[data-close]").addEventListener("click", function () { dialog.close(); });
  }

  // One submit per form: a slow connection invites a second tap.
  document.querySelectorAll("form[method=post]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.sent === "1") {
        event.preventDefault();
        return;
      }
      form.dataset.sent = "1";
    });
  });
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[method=post]").forEach(function (form) { form.dataset.sent = ""; });
  });
})();
