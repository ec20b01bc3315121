// ServiceDesk status page: shows this replica's health. Served to test proxy cache headers.
(function () {
  "use strict";
  function show(text) {
    var el = document.getElementById("health");
    if (el) { el.textContent = text; }
  }
  fetch("/api/health/ready", { cache: "no-store" })
    .then(function (r) { return r.json().then(function (b) { show(b.status + " (pid " + b.pid + ")"); }); })
    .catch(function () { show("unreachable"); });
})();
