(function () {
  "use strict";
  var ui = JSON.parse(document.getElementById("sfa-ui").textContent);
  var PAGE = 50, PRINT_ROWS = 1000;
  var SEV_RANK = {critical: 0, high: 1, medium: 2, low: 3, info: 4};
  var numberFormat = new Intl.NumberFormat(ui.locale);
  var dateFormat = new Intl.DateTimeFormat(ui.locale, {dateStyle: "medium", timeZone: "UTC"});

  function fmt(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_, key) { return String(values[key]); });
  }

  function loadData() {
    var el = document.getElementById("sfa-data");
    if (el.dataset.encoding === "gzip+base64") {
      var binary = atob(JSON.parse(el.textContent));
      var bytes = new Uint8Array(binary.length);
      for (var i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
      var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
      return new Response(stream).text().then(JSON.parse);
    }
    return Promise.resolve(JSON.parse(el.textContent));
  }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function FindingsTable(root, flat, data) {
    this.root = root;
    this.flat = flat;
    this.strings = data.strings;
    this.width = data.columns.length;
    this.col = {};
    for (var i = 0; i < data.columns.length; i++) this.col[data.columns[i]] = i;
    this.n = flat.length / this.width;
    this.cols = root.dataset.cols.split(",");
    this.tbody = root.querySelector("tbody");
    this.range = root.querySelector(".range");
    this.prev = root.querySelector('[data-page="prev"]');
    this.next = root.querySelector('[data-page="next"]');
    this.filters = {q: "", severity: "", state: "", object: "", owner: ""};
    this.sortKey = null;
    this.sortDir = 1;
    this.page = 0;
    this.hay = null;
    this.view = null;
    this.bind();
    this.apply();
  }

  FindingsTable.prototype.str = function (row, name) {
    var v = this.flat[row * this.width + this.col[name]];
    return v < 0 ? "" : this.strings[v];
  };

  FindingsTable.prototype.count = function (row) {
    var v = this.flat[row * this.width + this.col.count];
    return v < 0 ? null : v;
  };

  FindingsTable.prototype.bind = function () {
    var self = this, timer = null;
    this.root.querySelectorAll("[data-filter]").forEach(function (input) {
      var handler = function () {
        clearTimeout(timer);
        self.page = 0;
        self.apply();
      };
      if (input.tagName === "INPUT") {
        input.addEventListener("input", function () {
          clearTimeout(timer);
          timer = setTimeout(handler, self.n > 20000 ? 200 : 60);
        });
      } else {
        input.addEventListener("change", handler);
      }
    });
    this.root.querySelectorAll("[data-sort]").forEach(function (button) {
      button.addEventListener("click", function () {
        var key = button.dataset.sort;
        self.sortDir = self.sortKey === key ? -self.sortDir : 1;
        self.sortKey = key;
        self.root.querySelectorAll("th[aria-sort]").forEach(function (th) {
          th.setAttribute("aria-sort", th.dataset.col === key ? (self.sortDir > 0 ? "ascending" : "descending") : "none");
        });
        self.page = 0;
        self.apply();
      });
    });
    this.prev.addEventListener("click", function () { self.page -= 1; self.render(); });
    this.next.addEventListener("click", function () { self.page += 1; self.render(); });
  };

  FindingsTable.prototype.haystack = function () {
    if (!this.hay) {
      this.hay = new Array(this.n);
      for (var r = 0; r < this.n; r++) {
        this.hay[r] = [this.str(r, "message"), this.str(r, "user"), this.str(r, "object"), this.str(r, "owner"),
          this.str(r, "record_id"), this.str(r, "waived_by")].join("\u0001").toLowerCase();
      }
    }
    return this.hay;
  };

  FindingsTable.prototype.apply = function () {
    var f = this.filters;
    this.root.querySelectorAll("[data-filter]").forEach(function (input) {
      f[input.dataset.filter] = input.value;
    });
    var q = f.q.trim().toLowerCase(), hay = q ? this.haystack() : null, out = [];
    for (var r = 0; r < this.n; r++) {
      if (f.severity && this.str(r, "severity") !== f.severity) continue;
      if (f.state && this.str(r, "state") !== f.state) continue;
      if (f.object && this.str(r, "object") !== f.object) continue;
      if (f.owner && this.str(r, "owner") !== f.owner) continue;
      if (q && hay[r].indexOf(q) < 0) continue;
      out.push(r);
    }
    if (this.sortKey) {
      var self = this, key = this.sortKey, dir = this.sortDir, value;
      if (key === "count") value = function (r) { var c = self.count(r); return c === null ? -Infinity : c; };
      else if (key === "severity") value = function (r) { var s = SEV_RANK[self.str(r, "severity")]; return s === undefined ? 9 : s; };
      else value = function (r) { return self.str(r, key).toLowerCase(); };
      var keys = new Map();
      out.forEach(function (r) { keys.set(r, value(r)); });
      out.sort(function (a, b) {
        var x = keys.get(a), y = keys.get(b);
        return (x < y ? -1 : x > y ? 1 : a - b) * dir;
      });
    }
    this.view = out;
    this.render();
  };

  FindingsTable.prototype.cell = function (r, name) {
    var td = el("td"), text;
    if (name === "severity") {
      text = this.str(r, "severity");
      td.appendChild(el("span", "badge sev sev-" + text, ui.severity[text] || text));
    } else if (name === "message") {
      td.className = "msg";
      td.appendChild(document.createTextNode(this.str(r, "message")));
      var rid = this.str(r, "record_id");
      if (rid) { td.appendChild(document.createTextNode(" ")); td.appendChild(el("code", "rid", rid)); }
    } else if (name === "count") {
      td.className = "num";
      var c = this.count(r);
      td.textContent = c === null ? "" : numberFormat.format(c);
    } else if (name === "state") {
      var state = this.str(r, "state"), baseline = this.str(r, "baseline"), reason = this.str(r, "waived_by");
      td.appendChild(el("span", "badge fs-" + state, ui.state[state] || state));
      if (baseline === "new") {
        td.appendChild(document.createTextNode(" "));
        td.appendChild(el("span", "badge bl-" + baseline, ui.baseline[baseline]));
      }
      if (reason) {
        var expires = this.str(r, "waiver_expires"), note = reason;
        if (expires) {
          var d = new Date(expires + "T00:00:00Z");
          note += " (" + fmt(ui.until, {date: isNaN(d) ? expires : dateFormat.format(d)}) + ")";
        }
        td.appendChild(el("span", "waiver", note));
      }
    } else {
      td.textContent = this.str(r, name);
    }
    return td;
  };

  FindingsTable.prototype.render = function (limit) {
    var size = limit || PAGE, total = this.view.length;
    var pages = Math.max(1, Math.ceil(total / size));
    this.page = Math.min(Math.max(0, this.page), pages - 1);
    var start = limit ? 0 : this.page * size, end = Math.min(total, start + size);
    var frag = document.createDocumentFragment();
    for (var i = start; i < end; i++) {
      var r = this.view[i], tr = el("tr");
      for (var j = 0; j < this.cols.length; j++) tr.appendChild(this.cell(r, this.cols[j]));
      frag.appendChild(tr);
    }
    if (!total) {
      var empty = el("tr"), td = el("td", "muted", ui.none);
      td.colSpan = this.cols.length;
      empty.appendChild(td);
      frag.appendChild(empty);
    }
    this.tbody.replaceChildren(frag);
    this.range.textContent = fmt(ui.range, {
      from: numberFormat.format(total ? start + 1 : 0),
      to: numberFormat.format(end),
      total: numberFormat.format(total)
    });
    this.prev.disabled = start === 0;
    this.next.disabled = end >= total;
    this.root.dataset.shown = String(end - start);
    this.root.dataset.matching = String(total);
  };

  var tables = [];
  loadData().then(function (data) {
    document.querySelectorAll("[data-findings-table]").forEach(function (root) {
      var flat = data.checks[root.dataset.check];
      if (flat) tables.push(new FindingsTable(root, flat, data));
    });
    document.documentElement.dataset.ready = "true";
  }, function () {
    document.querySelectorAll("[data-findings-table] .range").forEach(function (node) {
      node.textContent = ui.noData;
    });
    document.documentElement.dataset.ready = "failed";
  });
  window.addEventListener("beforeprint", function () {
    tables.forEach(function (t) { t.render(PRINT_ROWS); });
  });
  window.addEventListener("afterprint", function () {
    tables.forEach(function (t) { t.render(); });
  });
})();
