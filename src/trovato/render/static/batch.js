// The batch progress page (/admin/batch/{id}): ask for the next chunk through the JSON until
// the batch is finished, moving the bar, then go to the page, which reports and redirects.
// Without this script the page reloads itself (<noscript> meta refresh) and works the same.
(function () {
  "use strict";
  var box = document.querySelector(".batch[data-batch-url]");
  if (!box) { return; }
  var bar = box.querySelector("progress");
  var count = box.querySelector(".batch__count");
  var url = box.getAttribute("data-batch-url");
  function next() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(function (state) {
        bar.max = state.total;
        bar.value = state.processed;
        bar.textContent = state.percent + "%";
        count.textContent = state.processed + " of " + state.total;
        if (state.finished) { window.location.assign(state.url); } else { next(); }
      })
      .catch(function () { window.location.reload(); });
  }
  next();
}());
