// Sorting and filtering for the leaderboard's tables. No dependencies and no network, so it
// works from file:// as well as from any static host. Filters live in the URL's #fragment,
// so a filtered view can be linked to.
(function () {
  "use strict";

  function key(cell, numeric) {
    if (!numeric) return cell.textContent.trim().toLowerCase();
    var s = cell.getAttribute("data-sort");
    return s === null || s === "" ? null : parseFloat(s);
  }

  function sortBy(table, index, th) {
    var numeric = th.getAttribute("data-kind") === "num";
    var up = th.getAttribute("aria-sort") !== "ascending";
    table.querySelectorAll("thead th").forEach(function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", up ? "ascending" : "descending");
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var keyed = rows.map(function (row, i) { return [key(row.cells[index], numeric), i, row]; });
    keyed.sort(function (a, b) {
      if (a[0] === null || b[0] === null) {  // empty cells last, whichever the direction
        return a[0] === b[0] ? a[1] - b[1] : (a[0] === null ? 1 : -1);
      }
      var c = a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;
      return (up ? c : -c) || a[1] - b[1];
    });
    keyed.forEach(function (k) { body.appendChild(k[2]); });
  }

  function count() {
    document.querySelectorAll(".table-block").forEach(function (block) {
      var rows = block.querySelectorAll("tbody tr");
      var shown = block.querySelectorAll("tbody tr:not([hidden])").length;
      var out = block.querySelector(".count");
      if (out) out.textContent = shown === rows.length ? rows.length + " rows" : shown + " of " + rows.length + " rows";
    });
  }

  function applyFilters() {
    var active = {};
    var hash = [];
    document.querySelectorAll("select[data-filter]").forEach(function (s) {
      if (s.value) {
        active[s.getAttribute("data-filter")] = s.value;
        hash.push(encodeURIComponent(s.getAttribute("data-filter")) + "=" + encodeURIComponent(s.value));
      }
    });
    document.querySelectorAll("[data-f-suite], [data-f-dfamily], [data-f-mfamily]").forEach(function (el) {
      var hide = Object.keys(active).some(function (name) {
        var value = el.getAttribute("data-f-" + name);
        return value !== null && value.split("|").indexOf(active[name]) < 0;
      });
      el.hidden = hide;
    });
    location.replace("#" + hash.join("&"));  // fragment only: no reload, fine on file://
    count();
  }

  function restoreFilters() {
    location.hash.replace(/^#/, "").split("&").forEach(function (pair) {
      var kv = pair.split("=");
      if (kv.length !== 2) return;
      var select = document.querySelector('select[data-filter="' + CSS.escape(decodeURIComponent(kv[0])) + '"]');
      if (select) select.value = decodeURIComponent(kv[1]);
    });
  }

  document.querySelectorAll("table.board").forEach(function (table) {
    table.querySelectorAll("thead th").forEach(function (th, i) {
      th.querySelector("button").addEventListener("click", function () { sortBy(table, i, th); });
    });
  });
  document.querySelectorAll("select[data-filter]").forEach(function (s) {
    s.addEventListener("change", applyFilters);
  });
  if (location.hash) {
    restoreFilters();
    applyFilters();
  } else {
    count();
  }
})();
