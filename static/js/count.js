// Keeps the campaign's count and goal bar current while the thank-you page is open.
(function () {
  var section = document.querySelector("[data-count-url]");
  if (!section || !window.fetch) return;
  var text = section.querySelector(".goal-count");
  var bar = section.querySelector(".goal-bar");
  var template = text.textContent;
  var polls = 0;
  function refresh() {
    if (++polls > 60) return;
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
  setInterval(refresh, 20000);
})();
