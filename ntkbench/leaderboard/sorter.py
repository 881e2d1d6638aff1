"""The one script of the pages: click a header (or open page.html#sort=<table id>:<column>[:desc])
to sort a table; each record is one <tbody>, so its row and its details row move together. Pages
allow it by its hash in their Content-Security-Policy."""

SORTER_JS = """
(function () {
  function key(tbody, i) {
    var cell = tbody.rows[0].cells[i];
    var v = '';
    if (cell) v = cell.getAttribute('data-sort') !== null ? cell.getAttribute('data-sort') : cell.textContent.trim();
    var n = Number(v);
    return v === '' ? null : (isNaN(n) ? v.toLowerCase() : n);
  }
  function sortBy(table, i, th) {
    var asc = th.getAttribute('aria-sort') !== 'ascending';
    var bodies = Array.prototype.slice.call(table.tBodies);
    bodies.sort(function (a, b) {
      var x = key(a, i), y = key(b, i);
      if (x === null || y === null) { return x === y ? 0 : (x === null ? 1 : -1); }
      if (typeof x !== typeof y) { x = String(x); y = String(y); }
      return (x < y ? -1 : x > y ? 1 : 0) * (asc ? 1 : -1);
    });
    bodies.forEach(function (b) { table.appendChild(b); });
    Array.prototype.forEach.call(th.parentNode.cells, function (c) { c.setAttribute('aria-sort', 'none'); });
    th.setAttribute('aria-sort', asc ? 'ascending' : 'descending');
    try { history.replaceState(null, '', '#sort=' + table.id + ':' + i + (asc ? '' : ':desc')); } catch (e) {}
  }
  Array.prototype.forEach.call(document.querySelectorAll('table.sortable'), function (table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, i) {
      th.setAttribute('aria-sort', 'none');
      th.tabIndex = 0;
      th.addEventListener('click', function () { sortBy(table, i, th); });
      th.addEventListener('keydown', function (e) { if (e.key === 'Enter') { sortBy(table, i, th); } });
    });
    table.setAttribute('data-sorter', 'ready');
  });
  // a link may carry the sort state: page.html#sort=<table id>:<column>[:desc]
  var m = /^#sort=([A-Za-z0-9_-]+):([0-9]+)(:desc)?$/.exec(location.hash);
  var t = m && document.getElementById(m[1]);
  var th = t && t.tHead && t.tHead.rows[0].cells[Number(m[2])];
  if (th) { sortBy(t, Number(m[2]), th); if (m[3]) { sortBy(t, Number(m[2]), th); } }
})();
"""
