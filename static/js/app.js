// Small behaviours that need script; every page works without them.
document.addEventListener("submit", function (event) {
  // A form with data-confirm asks first (e.g. locking a season, which is final).
  var message = event.target.getAttribute && event.target.getAttribute("data-confirm");
  if (message && !window.confirm(message)) {
    event.preventDefault();
    event.stopImmediatePropagation();
  }
}, true);

// Core % and fashion % add up to 100: typing one fills the other (the server checks anyway).
document.addEventListener("input", function (event) {
  var input = event.target;
  var otherId = input.getAttribute && input.getAttribute("data-complement");
  if (!otherId) return;
  var other = document.getElementById(otherId);
  var value = parseFloat(input.value);
  if (other && input.value.trim() !== "" && isFinite(value) && value >= 0 && value <= 100) {
    other.value = (100 - value).toFixed(2).replace(/\.00$/, "");
  }
});

// An upload shows how much of the file has been sent; the server's checking follows.
document.addEventListener("htmx:xhr:progress", function (event) {
  var bar = document.getElementById("upload-bar");
  if (bar && event.detail.lengthComputable) {
    bar.value = Math.round(event.detail.loaded / event.detail.total * 100);
  }
});

// Buttons that need script show only when it runs; "Print" opens the print dialog.
document.documentElement.classList.add("has-js");
document.addEventListener("click", function (event) {
  if (event.target.closest && event.target.closest("[data-print]")) {
    window.print();
  }
});

// The upload page's template links follow the season chosen in the form (without script
// they carry the season the page was opened with).
document.addEventListener("change", function (event) {
  var select = event.target;
  if (!select.matches || !select.matches("select[data-template-season]")) return;
  document.querySelectorAll("a[data-template-link]").forEach(function (link) {
    var url = new URL(link.getAttribute("href"), window.location.href);
    if (select.value) {
      url.searchParams.set("season", select.value);
    } else {
      url.searchParams.delete("season");
    }
    link.setAttribute("href", url.pathname + url.search);
  });
});

// A new API token: its Copy button copies the secret, and a click in the field selects it
// all (without script the field is still there to select and copy).
document.addEventListener("click", function (event) {
  var button = event.target.closest && event.target.closest("[data-copy]");
  if (!button) return;
  var input = document.getElementById(button.getAttribute("data-copy"));
  var state = document.getElementById(button.getAttribute("data-copy") + "-state");
  if (!input) return;
  input.select();
  var said = function (text) { if (state) state.textContent = text; };
  var fallback = function () {
    try {
      said(document.execCommand("copy") ? "Copied" : "Press Ctrl+C to copy");
    } catch (e) {
      said("Press Ctrl+C to copy");
    }
  };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(input.value).then(function () { said("Copied"); }, fallback);
  } else {
    fallback();
  }
});
document.addEventListener("focusin", function (event) {
  if (event.target.matches && event.target.matches("input[data-select-all]")) {
    event.target.select();
  }
});
