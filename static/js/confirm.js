// The confirmation link carries its code in the URL's fragment (#code=...), which browsers
// never send to the server: copied here into the form, it reaches the server only in the
// POST's body, never an access log. The fragment is then taken off the address bar, so the
// code is not kept in a bookmark or shared by copying the address.
(function () {
  var match = /^#code=([0-9A-Za-z-]{1,32})$/.exec(window.location.hash);
  if (!match) return;
  var field = document.getElementById("id_code");
  if (field && !field.value) field.value = match[1];
  if (window.history && window.history.replaceState) {
    window.history.replaceState(null, "", window.location.pathname + window.location.search);
  }
})();
