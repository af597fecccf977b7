// After a failed submit, move focus to the error summary so keyboard and screen-reader users
// start from the list of problems. (Without JavaScript the form's #write anchor scrolls there.)
(function () {
  var summary = document.getElementById("error-summary");
  if (summary) summary.focus();
})();
