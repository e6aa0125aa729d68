/* The day board's moves (docs/day-board.md): drag a block to another row or time, drag its
   right edge to change the end, or use the keyboard; the server decides (the same reserve
   service as the picker). Accepted: the board is re-rendered; refused: the block snaps back
   and the reason is shown where it was dropped. No framework; pointer events cover touch. */
(function () {
  "use strict";
  var MIN = 60000;

  function boardOf(el) { return el.closest(".db"); }
  function scroller() { return document.getElementById("day-board"); }

  function geometry(block) {
    var db = boardOf(block);
    var start = Date.parse(db.dataset.rangeStart), end = Date.parse(db.dataset.rangeEnd);
    return { db: db, start: start, total: (end - start) / MIN, snap: parseInt(db.dataset.snap, 10) || 15 };
  }

  function snapped(g, ms) {
    var minutes = Math.round((ms - g.start) / MIN / g.snap) * g.snap;
    return g.start + minutes * MIN;
  }

  function place(state) {
    var fo = state.fo, g = state.g;
    fo.setAttribute("x", ((state.start - g.start) / MIN / g.total * 100).toFixed(3) + "%");
    fo.setAttribute("width", Math.max((state.end - state.start) / MIN / g.total * 100, 0.15).toFixed(3) + "%");
    var svg = state.row.querySelector(".db-svg");
    if (fo.parentNode !== svg) { svg.appendChild(fo); }
  }

  function begin(block) {
    var fo = block.closest("foreignObject");
    return {
      block: block, fo: fo, g: geometry(block),
      home: { parent: fo.parentNode, next: fo.nextSibling, x: fo.getAttribute("x"), width: fo.getAttribute("width") },
      origStart: Date.parse(block.dataset.start), origEnd: Date.parse(block.dataset.end),
      start: Date.parse(block.dataset.start), end: Date.parse(block.dataset.end),
      row: block.closest(".db-row"), origRow: block.closest(".db-row")
    };
  }

  function restore(state) {
    var fo = state.fo;
    state.home.parent.insertBefore(fo, state.home.next);
    fo.setAttribute("x", state.home.x);
    fo.setAttribute("width", state.home.width);
    state.block.classList.remove("db-dragging", "db-pending");
  }

  function changed(state) {
    return state.start !== state.origStart || state.end !== state.origEnd || state.row !== state.origRow;
  }

  function clearRefusal() {
    var old = document.querySelector(".db-refusal");
    if (old) { old.remove(); }
  }

  function showRefusal(at, text, names) {
    clearRefusal();
    var box = document.createElement("div");
    box.className = "db-refusal";
    box.setAttribute("role", "alert");
    var close = document.createElement("button");
    close.type = "button"; close.className = "link"; close.textContent = "×";
    close.setAttribute("aria-label", "×");
    close.addEventListener("click", clearRefusal);
    box.appendChild(close);
    box.appendChild(document.createTextNode(text));
    if (names && names.length) {
      var list = document.createElement("ul");
      names.forEach(function (name) { var li = document.createElement("li"); li.textContent = name; list.appendChild(li); });
      box.appendChild(list);
    }
    var sc = scroller(), rect = sc.getBoundingClientRect();
    box.style.left = Math.max(at.x - rect.left + sc.scrollLeft, 0) + "px";
    box.style.top = (at.y - rect.top + sc.scrollTop + 12) + "px";
    sc.appendChild(box);
  }

  function refusalText(status, body) {
    if (body && body.detail) { return [body.detail, body.conflicts]; }
    if (body && body.errors) {
      var parts = [];
      Object.keys(body.errors).forEach(function (name) {
        body.errors[name].forEach(function (e) { parts.push(name + ": " + (e.message || e)); });
      });
      return [parts.join("; "), []];
    }
    return [String(status), []];
  }

  function commit(state, at) {
    var block = state.block, db = state.g.db, sc = scroller();
    var data = new FormData();
    var rowId = state.row.dataset.row;
    data.append("booking", block.dataset.booking);
    data.append("unit", db.dataset.by === "unit" ? rowId : block.dataset.unit);
    data.append("driver", db.dataset.by === "driver" ? rowId : block.dataset.driver);
    data.append("start", new Date(state.start).toISOString());
    data.append("end", new Date(state.end).toISOString());
    data.append("version", block.dataset.version);
    data.append("day", db.dataset.day);
    data.append("days", db.dataset.days);
    data.append("by", db.dataset.by);
    block.setAttribute("aria-busy", "true");
    return fetch(sc.dataset.moveUrl, {
      method: "POST", body: data, credentials: "same-origin",
      headers: { "X-CSRFToken": sc.dataset.csrf, "HX-Request": "true" }
    }).then(function (response) {
      if (response.ok) {
        return response.text().then(function (html) {
          clearRefusal();
          sc.querySelector(".db").outerHTML = html;
          if (window.htmx) { window.htmx.process(sc); }
          var moved = sc.querySelector('.db-block[data-booking="' + block.dataset.booking + '"]');
          if (moved) { moved.focus(); }
        });
      }
      return response.json().catch(function () { return null; }).then(function (body) {
        restore(state);
        block.removeAttribute("aria-busy");
        var text = refusalText(response.status, body);
        showRefusal(at, text[0], text[1]);
        block.focus();
      });
    }).catch(function () {
      restore(state);
      block.removeAttribute("aria-busy");
      showRefusal(at, "…", []);
    });
  }

  /* --- pointer: move or resize ------------------------------------------------------- */
  var drag = null;

  document.addEventListener("pointerdown", function (event) {
    var block = event.target.closest && event.target.closest(".db-block[data-movable]");
    if (!block || event.button !== 0 || event.target.closest(".db-fallback")) { return; }
    drag = begin(block);
    drag.mode = event.target.closest(".db-resize") ? "resize" : "move";
    drag.x0 = event.clientX; drag.y0 = event.clientY; drag.moved = false;
    drag.width = block.closest(".db-track").getBoundingClientRect().width;
    block.setPointerCapture(event.pointerId);
  });

  document.addEventListener("pointermove", function (event) {
    if (!drag) { return; }
    var dx = event.clientX - drag.x0, dy = event.clientY - drag.y0;
    if (!drag.moved && Math.abs(dx) < 4 && Math.abs(dy) < 4) { return; }
    if (!drag.moved) { drag.moved = true; clearRefusal(); drag.block.classList.add("db-dragging"); }
    event.preventDefault();
    var shift = dx / drag.width * drag.g.total * MIN;
    if (drag.mode === "resize") {
      drag.end = Math.max(snapped(drag.g, drag.origEnd + shift), drag.start + drag.g.snap * MIN);
    } else {
      drag.start = snapped(drag.g, drag.origStart + shift);
      drag.end = drag.start + (drag.origEnd - drag.origStart);
      var under = document.elementsFromPoint(event.clientX, event.clientY)
        .map(function (el) { return el.closest && el.closest(".db-row[data-row]"); })
        .filter(Boolean)[0];
      if (under && boardOf(under) === drag.g.db) { drag.row = under; }
    }
    place(drag);
  });

  function endDrag(event, cancelled) {
    if (!drag) { return; }
    var state = drag; drag = null;
    if (!state.moved) { return; }
    state.block.classList.remove("db-dragging");
    /* A drag is not a click: keep the link inside the block from opening. */
    state.block.addEventListener("click", function (e) { e.preventDefault(); }, { once: true, capture: true });
    if (cancelled || !changed(state)) { restore(state); return; }
    commit(state, { x: event.clientX, y: event.clientY });
  }
  document.addEventListener("pointerup", function (event) { endDrag(event, false); });
  document.addEventListener("pointercancel", function (event) { endDrag(event, true); });

  /* --- keyboard: arrows propose, Enter commits, Esc cancels ---------------------------- */
  var pending = null;

  document.addEventListener("keydown", function (event) {
    var block = event.target.closest && event.target.closest(".db-block[data-movable]");
    if (!block || event.target !== block) { return; }
    var keys = ["ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown", "Enter", "Escape"];
    if (keys.indexOf(event.key) < 0) { return; }
    event.preventDefault();
    if (!pending || pending.block !== block) {
      if (pending) { restore(pending); }
      if (event.key === "Enter" || event.key === "Escape") { pending = null; return; }
      pending = begin(block);
      clearRefusal();
    }
    var step = pending.g.snap * MIN;
    if (event.key === "Escape") { restore(pending); pending = null; return; }
    if (event.key === "Enter") {
      var state = pending; pending = null;
      if (!changed(state)) { restore(state); return; }
      var rect = state.fo.getBoundingClientRect();
      commit(state, { x: rect.left, y: rect.bottom });
      return;
    }
    if (event.key === "ArrowLeft" || event.key === "ArrowRight") {
      var sign = event.key === "ArrowLeft" ? -1 : 1;
      if (event.shiftKey) {
        pending.end = Math.max(pending.end + sign * step, pending.start + step);
      } else {
        pending.start += sign * step; pending.end += sign * step;
      }
    } else {
      var rows = Array.prototype.slice.call(pending.g.db.querySelectorAll(".db-row[data-row]"));
      var index = rows.indexOf(pending.row) + (event.key === "ArrowUp" ? -1 : 1);
      if (index >= 0 && index < rows.length) { pending.row = rows[index]; }
    }
    block.classList.add("db-pending");
    place(pending);
    block.focus();
  });

  document.addEventListener("focusout", function (event) {
    if (pending && event.target === pending.block && !pending.fo.contains(event.relatedTarget)) {
      /* moving the element re-parents it and blurs it: only cancel on a real focus change */
      setTimeout(function () {
        if (pending && document.activeElement !== pending.block) { restore(pending); pending = null; }
      }, 0);
    }
  });
})();
