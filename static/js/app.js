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
