// After a failed submit, move focus to the error summary so keyboard and screen-reader users
// start from the list of problems. (Without JavaScript the form's #write anchor scrolls there.)
(function () {
  var summary = document.getElementById("error-summary");
  if (!summary) return;
  summary.focus();
  // Chromium scrolls to the page's #write once the page has loaded, and clears the focus then,
  // as #write is not focusable: focus the summary again after that.
  window.addEventListener("load", function () {
    setTimeout(function () { summary.focus(); }, 0);
  });
})();
