// The header's search (docs/search.md): «/» or Ctrl+K focuses it (not while typing in
// another field), htmx fills the results as you type, the arrows move through them, Enter
// opens the chosen one (or the full results page), Esc closes. Without JavaScript the
// field is a plain GET form to /search/.
(function () {
  "use strict";

  function box() { return document.querySelector("[data-search-box]"); }
  function field(form) { return form.querySelector("input[name=q]"); }
  function panel(form) { return form.querySelector(".search-results"); }
  function hits(form) { return Array.prototype.slice.call(panel(form).querySelectorAll(".search-hit")); }

  function typing(target) {
    return target instanceof Element && (target.isContentEditable || target.closest("input, textarea, select, [contenteditable]"));
  }

  function open(form, yes) {
    const results = panel(form);
    results.hidden = !yes;
    field(form).setAttribute("aria-expanded", yes ? "true" : "false");
    if (!yes) select(form, -1);
  }

  function select(form, index) {
    const all = hits(form);
    const input = field(form);
    all.forEach(function (hit, i) {
      hit.id = hit.id || "search-hit-" + i;
      hit.classList.toggle("active", i === index);
      hit.setAttribute("aria-selected", i === index ? "true" : "false");
    });
    if (index >= 0 && all[index]) {
      input.setAttribute("aria-activedescendant", all[index].id);
      all[index].scrollIntoView({ block: "nearest" });
    } else {
      input.removeAttribute("aria-activedescendant");
    }
    form.dataset.active = String(index);
  }

  document.addEventListener("keydown", function (event) {
    const form = box();
    if (!form) return;
    const input = field(form);
    const chord = (event.ctrlKey || event.metaKey) && !event.altKey && event.key.toLowerCase() === "k";
    const slash = event.key === "/" && !event.ctrlKey && !event.metaKey && !event.altKey;
    if ((chord || slash) && event.target !== input && !typing(event.target)) {
      event.preventDefault();
      input.focus();
      input.select();
      return;
    }
    if (event.target !== input) return;
    const all = hits(form);
    const active = parseInt(form.dataset.active || "-1", 10);
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (panel(form).hidden || !all.length) return;
      event.preventDefault();
      const next = active + (event.key === "ArrowDown" ? 1 : -1);
      select(form, next >= all.length ? 0 : next < 0 ? all.length - 1 : next);
    } else if (event.key === "Enter") {
      if (!panel(form).hidden && all[active]) {
        event.preventDefault();
        window.location.assign(all[active].href);
      }
    } else if (event.key === "Escape") {
      if (!panel(form).hidden) {
        event.preventDefault();
        open(form, false);
      } else {
        input.blur();
      }
    }
  });

  document.addEventListener("input", function (event) {
    const form = box();
    if (form && event.target === field(form) && !field(form).value.trim()) open(form, false);
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    const form = box();
    if (!form || event.target !== panel(form)) return;
    open(form, Boolean(field(form).value.trim()) && document.activeElement === field(form));
    select(form, -1);
  });

  document.addEventListener("focusin", function (event) {
    const form = box();
    if (form && event.target === field(form) && field(form).value.trim() && panel(form).children.length) open(form, true);
  });

  document.addEventListener("click", function (event) {
    const form = box();
    if (form && !panel(form).hidden && !(event.target instanceof Element && form.contains(event.target))) open(form, false);
  });
})();
