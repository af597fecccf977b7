// Keeps the campaign's count and goal bar current while the thank-you page is open and seen.
// Without JavaScript the page shows the count as it was when it loaded.
(function () {
  var section = document.querySelector("[data-count-url]");
  if (!section || !window.fetch) return;
  var text = section.querySelector(".goal-count");
  var bar = section.querySelector(".goal-bar");
  var template = text.textContent;
  var EVERY = 60000; // a blast sends thousands to this page: each open tab asks once a minute
  var MAX_POLLS = 60;
  var polls = 0;
  var timer = null;
  var last = Date.now();
  function refresh() {
    if (++polls > MAX_POLLS) return stop();
    last = Date.now();
    fetch(section.dataset.countUrl, { headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) return;
        var goal = Math.max(data.goal, data.count, 1);
        bar.max = goal;
        bar.value = data.count;
        text.textContent = template.replace(/\d[\d,]*/, data.count).replace(/(\D)\d[\d,]*(\D*)$/, "$1" + goal + "$2");
      })
      .catch(function () {});
  }
  function start() {
    if (timer !== null || polls >= MAX_POLLS) return;
    // Back on a tab hidden for a while: catch up now, then once a minute.
    if (Date.now() - last >= EVERY) refresh();
    timer = setInterval(refresh, EVERY);
  }
  function stop() {
    if (timer !== null) clearInterval(timer);
    timer = null;
  }
  // A hidden tab (another tab in front, a minimized window) asks nothing.
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") stop(); else start();
  });
  if (document.visibilityState !== "hidden") start();
})();
