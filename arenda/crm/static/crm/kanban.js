// Deal board drag-and-drop. A dropped card submits its own "Move to…" form with the
// column's stage, so dragging and the keyboard/phone path make the same request; the
// server answers with the board redrawn (the card back in place and the reason, if refused).
(function () {
  "use strict";
  var dragged = null;

  function column(event) {
    return event.target.closest ? event.target.closest(".deal-col") : null;
  }
  function offers(card, stage) {
    return Array.prototype.some.call(card.querySelectorAll("select[name=stage] option"), function (o) {
      return o.value === stage;
    });
  }
  function mark(on) {
    document.querySelectorAll(".deal-col").forEach(function (col) {
      col.classList.toggle("can-drop", on && offers(dragged, col.dataset.stage));
      col.classList.toggle("no-drop", on && !col.contains(dragged) && !offers(dragged, col.dataset.stage));
      if (!on) col.classList.remove("drop-target");
    });
  }

  document.addEventListener("dragstart", function (event) {
    var card = event.target.closest ? event.target.closest(".deal-card[draggable=true]") : null;
    if (!card) return;
    dragged = card;
    card.classList.add("dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.dataset.deal);
    mark(true);
  });
  document.addEventListener("dragend", function () {
    if (dragged) dragged.classList.remove("dragging");
    mark(false);
    dragged = null;
  });
  document.addEventListener("dragover", function (event) {
    var col = column(event);
    if (!col || !dragged || col.contains(dragged)) return;
    event.preventDefault();
    document.querySelectorAll(".drop-target").forEach(function (c) { if (c !== col) c.classList.remove("drop-target"); });
    col.classList.add("drop-target");
  });
  document.addEventListener("drop", function (event) {
    var col = column(event);
    if (!col || !dragged || col.contains(dragged)) return;
    event.preventDefault();
    var form = dragged.querySelector(".move-form");
    var select = form.querySelector("select[name=stage]");
    // A move the funnel does not offer still goes to the server, which says why not.
    if (!offers(dragged, col.dataset.stage)) select.add(new Option("", col.dataset.stage));
    select.value = col.dataset.stage;
    col.querySelector(".deal-col-cards").prepend(dragged);
    form.requestSubmit();
  });
})();
