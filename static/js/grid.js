// The planning grid's keyboard, typing, paste, spread and undo (issue 14), on the server-rendered
// OTB pivot. The table works without this file (forms do the same); with it, a section marked
// data-grid-edit behaves like a spreadsheet:
//   - td[data-cell]: an input of a leaf row (key "measure|location|category|YYYY-MM", the row's
//     data-version and data-value); typing saves it when the cell is left;
//   - td[data-spread]: an input at a group row or a total; a typed total is spread over the leaf
//     cells below, after a preview the planner confirms;
//   - every save answers with the grid again (totals refreshed), swapped in place; a refusal
//     answers JSON naming each refused cell, shown on the cell with the typed text kept.
(function () {
  "use strict";

  var active = null;   // the cell with the focus
  var editor = null;   // {cell, input, original} while a cell is being edited
  var busy = false;    // a save is on its way: keys wait for its answer
  var spreading = false;  // the spread dialog is open

  function section() { return document.querySelector("section[data-grid-edit]"); }
  function isCell(el) { return el && el.matches && el.matches("td[data-cell], td[data-spread]"); }
  function cellKey(td) { return td.getAttribute("data-cell") || td.getAttribute("data-spread"); }
  function findCell(key) {
    var grid = section();
    if (!grid || !key) return null;
    var found = null;
    grid.querySelectorAll("td[data-cell], td[data-spread]").forEach(function (td) {
      if (cellKey(td) === key) found = td;
    });
    return found;
  }

  // Moving: rows are the table lines holding cells; a column is a month (or the season total).
  function lines() {
    var grid = section();
    if (!grid) return [];
    return Array.prototype.filter.call(grid.querySelectorAll("tr"), function (tr) {
      return tr.querySelector("td[data-cell], td[data-spread]");
    });
  }
  function cellsOf(tr) { return Array.prototype.slice.call(tr.querySelectorAll("td[data-cell], td[data-spread]")); }
  function column(td) { return td.getAttribute("data-col"); }

  function neighbour(td, rowStep, colStep) {
    var rows = lines();
    var r = rows.indexOf(td.parentElement);
    if (colStep) {
      var cells = cellsOf(td.parentElement);
      return cells[cells.indexOf(td) + colStep] || null;
    }
    for (var i = r + rowStep; i >= 0 && i < rows.length; i += rowStep) {
      var match = cellsOf(rows[i]).filter(function (c) { return column(c) === column(td); })[0];
      if (match) return match;
    }
    return null;
  }
  function inOrder(td, step) {
    var all = [];
    lines().forEach(function (tr) { all = all.concat(cellsOf(tr)); });
    return all[all.indexOf(td) + step] || null;
  }

  function focusCell(td) {
    if (!td) return;
    if (active && active !== td) active.setAttribute("tabindex", "-1");
    active = td;
    td.setAttribute("tabindex", "0");
    td.focus();
  }

  // Editing

  function startEdit(td, text) {
    if (editor) return;
    var input = document.createElement("input");
    input.type = "text";
    input.inputMode = "decimal";
    input.className = "cell-input";
    input.setAttribute("aria-label", td.getAttribute("aria-label"));
    input.value = text;
    editor = {cell: td, input: input, original: td.innerHTML};
    td.classList.add("editing");
    td.innerHTML = "";
    td.appendChild(input);
    input.focus();
    input.setSelectionRange(input.value.length, input.value.length);
  }

  function cancelEdit() {
    if (!editor) return;
    var td = editor.cell;
    td.innerHTML = editor.original;
    td.classList.remove("editing", "refused");
    td.removeAttribute("aria-invalid");
    editor = null;
    focusCell(td);
  }

  // Leave the cell being edited towards `next` (a cell or null): save it when it changed.
  function commit(next) {
    if (!editor) { focusCell(next); return Promise.resolve(); }
    var td = editor.cell, text = editor.input.value.trim();
    if (text === (td.getAttribute("data-value") || "").trim()) {
      cancelEdit();
      focusCell(next);
      return Promise.resolve();
    }
    return td.hasAttribute("data-spread") ? preview(td, text) : save(td, text, next);
  }

  function post(url, fields) {
    var grid = section();
    var body = new URLSearchParams();
    fields.forEach(function (pair) { body.append(pair[0], pair[1]); });
    return fetch(url, {
      method: "POST", body: body, credentials: "same-origin",
      headers: {"HX-Request": "true", "HX-Current-URL": window.location.href,
                "X-CSRFToken": grid.getAttribute("data-csrf")}
    });
  }

  // The grid again, swapped in place; the focus goes to the cell of `key` (the same cell in
  // the new grid).
  function swapGrid(html, key) {
    var grid = section() || document.getElementById("grid");
    var holder = document.createElement("div");
    holder.innerHTML = html;
    var fresh = holder.querySelector("#grid");
    if (!fresh) return;
    grid.replaceWith(fresh);
    if (window.htmx) window.htmx.process(fresh);
    editor = null;
    active = null;
    focusCell(findCell(key) || fresh.querySelector("td[data-cell], td[data-spread]"));
  }

  function notice(text) {
    var place = document.querySelector("#grid .grid-notice");
    if (place) place.textContent = text;
  }

  // Mark refused cells: the typed text stays, the message is on the cell (its title and, for
  // screen readers, the notice).
  function refuse(answer, cells) {
    notice(answer.message);
    Object.keys(answer.cells || {}).forEach(function (key) {
      var td = findCell(key);
      if (!td) return;
      td.classList.add("refused");
      td.setAttribute("aria-invalid", "true");
      td.setAttribute("title", answer.cells[key]);
      if (cells && key in cells && !(editor && editor.cell === td)) td.textContent = cells[key];
      var old = td.querySelector(".cell-error");
      if (old) old.remove();
      var message = document.createElement("span");
      message.className = "cell-error";
      message.id = "error-" + Math.random().toString(36).slice(2);
      message.textContent = answer.cells[key];
      td.appendChild(message);
      var input = td.querySelector("input");
      if (input) {
        input.setAttribute("aria-invalid", "true");
        input.setAttribute("aria-describedby", message.id);
      }
    });
  }

  function answer(response, key, sent) {
    return response.text().then(function (body) {
      busy = false;
      if (response.ok) { swapGrid(body, key); return; }
      var parsed = null;
      try { parsed = JSON.parse(body); } catch (e) { parsed = {message: "Not saved (" + response.status + "); reload the page"}; }
      refuse(parsed, sent);
      if (editor) editor.input.focus();
    });
  }

  function save(td, text, next) {
    busy = true;
    var key = cellKey(next || td);
    return post(section().getAttribute("data-cells-url"), [
      ["cell", td.getAttribute("data-cell")], ["value", text],
      ["version", td.getAttribute("data-version")], ["kind", "type"]
    ]).then(function (response) { return answer(response, key); });
  }

  // Paste: a block from a spreadsheet fills the cells to the right and below the active one.
  function paste(td, text) {
    var block = text.replace(/\r\n?/g, "\n").replace(/\n$/, "").split("\n").map(function (line) {
      return line.split("\t");
    });
    var rows = lines().filter(function (tr) { return tr.querySelector("td[data-cell]"); });
    var startRow = rows.indexOf(td.parentElement);
    var startCol = cellsOf(td.parentElement).filter(function (c) { return c.hasAttribute("data-cell"); }).indexOf(td);
    var fields = [["kind", "paste"]], sent = {}, outside = false;
    block.forEach(function (values, r) {
      var tr = rows[startRow + r];
      var cells = tr ? cellsOf(tr).filter(function (c) { return c.hasAttribute("data-cell"); }) : [];
      values.forEach(function (value, c) {
        var target = cells[startCol + c];
        if (!target) { outside = true; return; }
        fields.push(["cell", target.getAttribute("data-cell")], ["value", value.trim()],
                    ["version", target.getAttribute("data-version")]);
        sent[target.getAttribute("data-cell")] = value.trim();
      });
    });
    if (outside) {
      notice("The block is " + block.length + " × " + block[0].length + " cells; from this cell it runs past the grid's last line or month. Nothing was pasted.");
      return;
    }
    busy = true;
    post(section().getAttribute("data-cells-url"), fields).then(function (response) {
      return answer(response, cellKey(td), sent);
    });
  }

  // Spread: preview in a dialog, then save or cancel.
  function dialog() {
    var box = document.getElementById("spread-dialog");
    if (!box) {
      box = document.createElement("dialog");
      box.id = "spread-dialog";
      box.setAttribute("aria-labelledby", "spread-dialog-title");
      document.body.appendChild(box);
    }
    return box;
  }

  // Each preview asked for gets a number; only the latest may fill (or open) the dialog, and
  // saving or cancelling outdates every preview still on its way, so a slow answer never
  // reopens a dialog that was closed.
  var previewSeq = 0;

  function preview(td, total, shape) {
    busy = true;
    var mine = ++previewSeq;
    var fields = [["target", td.getAttribute("data-spread")], ["total", total], ["shape", shape || "current"]];
    return post(section().getAttribute("data-spread-url"), fields).then(function (response) {
      return response.text().then(function (html) {
        if (mine !== previewSeq) return;
        busy = false;
        var box = dialog();
        box.innerHTML = '<h2 id="spread-dialog-title">Spread a total</h2>' +
          '<p><label>Shared <select class="spread-shape"></select></label></p>' + html;
        var select = box.querySelector(".spread-shape");
        var shapes = JSON.parse(section().getAttribute("data-shapes") || "{}");
        Object.keys(shapes).forEach(function (value) {
          var option = document.createElement("option");
          option.value = value;
          option.textContent = "by " + shapes[value];
          select.appendChild(option);
        });
        select.value = shape || "current";
        select.addEventListener("change", function () { preview(td, total, select.value); });
        var form = box.querySelector("form.spread-save");
        if (form) {
          form.addEventListener("submit", function (event) {
            event.preventDefault();
            var data = Array.from(new FormData(form).entries());
            previewSeq++;
            busy = true;
            post(form.getAttribute("action"), data).then(function (answerResponse) {
              box.close();
              return answer(answerResponse, cellKey(td));
            });
          });
        }
        box.querySelectorAll("[data-spread-cancel]").forEach(function (link) {
          link.addEventListener("click", function (event) {
            event.preventDefault();
            previewSeq++;
            busy = false;
            box.close();
            cancelEdit();
          });
        });
        box.addEventListener("cancel", function () {
          previewSeq++;
          busy = false;
          cancelEdit();
        }, {once: true});
        box.addEventListener("close", function () { spreading = false; }, {once: true});
        spreading = true;
        if (!box.open) box.showModal();
        var first = box.querySelector("button.primary") || select;
        first.focus();
      });
    });
  }

  function undo() {
    var grid = section();
    if (!grid) return;
    busy = true;
    var key = active ? cellKey(active) : null;
    post(grid.getAttribute("data-undo-url"), []).then(function (response) { return answer(response, key); });
  }

  // Keys

  var MOVES = {
    ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1]
  };

  document.addEventListener("keydown", function (event) {
    var grid = section();
    if (!grid || busy && grid.contains(event.target)) {
      if (busy && grid && grid.contains(event.target)) event.preventDefault();
      return;
    }
    var target = event.target;
    if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "z" && !editor
        && (isCell(target) || target === document.body)) {
      event.preventDefault();
      undo();
      return;
    }
    if (editor && target === editor.input) {
      var td = editor.cell, next;
      if (event.key === "Escape") { event.preventDefault(); cancelEdit(); return; }
      if (event.key === "Enter") next = neighbour(td, event.shiftKey ? -1 : 1, 0) || td;
      else if (event.key === "Tab") next = inOrder(td, event.shiftKey ? -1 : 1) || td;
      else if (event.key === "ArrowUp" || event.key === "ArrowDown") next = neighbour(td, MOVES[event.key][0], 0) || td;
      else return;  // other keys edit the text (left/right move the caret)
      event.preventDefault();
      commit(next);
      return;
    }
    if (!isCell(target) || !grid.contains(target)) return;
    if (MOVES[event.key]) {
      event.preventDefault();
      focusCell(neighbour(target, MOVES[event.key][0], MOVES[event.key][1]) || target);
    } else if (event.key === "Tab") {
      var step = inOrder(target, event.shiftKey ? -1 : 1);
      if (step) { event.preventDefault(); focusCell(step); }
    } else if (event.key === "Enter") {
      event.preventDefault();
      focusCell(neighbour(target, event.shiftKey ? -1 : 1, 0) || target);
    } else if (event.key === "F2") {
      event.preventDefault();
      startEdit(target, target.getAttribute("data-value") || "");
    } else if (event.key.length === 1 && !event.ctrlKey && !event.metaKey && !event.altKey) {
      event.preventDefault();
      startEdit(target, event.key);  // typing replaces
    }
  });

  document.addEventListener("dblclick", function (event) {
    var td = event.target.closest && event.target.closest("td[data-cell], td[data-spread]");
    if (td && section() && section().contains(td) && !editor) {
      focusCell(td);
      startEdit(td, td.getAttribute("data-value") || "");
    }
  });

  document.addEventListener("click", function (event) {
    var td = event.target.closest && event.target.closest("td[data-cell], td[data-spread]");
    if (editor && td !== editor.cell && !editor.cell.contains(event.target)) {
      commit(td);
    } else if (td && !editor) {
      focusCell(td);
    }
  });

  // Leaving the cell by the mouse or another control saves it too.
  document.addEventListener("focusout", function (event) {
    if (!editor || event.target !== editor.input || busy || spreading) return;
    if (isCell(event.relatedTarget)) return;  // the key or click handler moves there
    window.setTimeout(function () {
      if (editor && document.activeElement !== editor.input && !busy && !spreading) commit(null);
    }, 0);
  });

  document.addEventListener("paste", function (event) {
    var grid = section();
    var target = editor ? editor.cell : event.target;
    if (!grid || !isCell(target) || !target.hasAttribute("data-cell") || busy) return;
    var text = (event.clipboardData || window.clipboardData).getData("text/plain");
    if (editor && text.indexOf("\t") < 0 && text.replace(/\r?\n$/, "").indexOf("\n") < 0) return;  // one value: into the input
    event.preventDefault();
    if (editor) cancelEdit();
    paste(target, text);
  });

  // The first cell takes part in the page's tab order; after htmx swaps the grid (a filter,
  // a group opened), again.
  function arm() {
    var grid = section();
    if (!grid) return;
    var first = grid.querySelector("td[data-cell], td[data-spread]");
    if (first && !grid.querySelector("td[data-cell][tabindex='0'], td[data-spread][tabindex='0']")) {
      first.setAttribute("tabindex", "0");
    }
  }
  document.addEventListener("DOMContentLoaded", arm);
  document.addEventListener("htmx:afterSettle", arm);
})();
