// Small behaviours that need script; every page works without them.
document.addEventListener("submit", function (event) {
  // A form with data-confirm asks first (e.g. locking a season, which is final).
  var message = event.target.getAttribute && event.target.getAttribute("data-confirm");
  if (message && !window.confirm(message)) {
    event.preventDefault();
    event.stopImmediatePropagation();
  }
}, true);
