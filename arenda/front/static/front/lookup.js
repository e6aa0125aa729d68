// Autocomplete of a record field (docs/autocomplete.md), the ARIA 1.2 combobox pattern.
// The server renders a text input (the text typed, «name__text») and a hidden one (the
// record's primary key, «name»); without JavaScript the text alone is posted and the server
// resolves it. Here, typing asks GET /lookup/<kind>/?q= for options (after a pause), ↓/↑
// move, Enter or a click picks (the pk into the hidden input, the record's text into the
// visible one), Esc closes. Typing again forgets the pick until another one is made.
(function () {
  "use strict";

  const DELAY = 250;
  const MIN_LENGTH = 2;

  function setup(box) {
    if (box.dataset.lookupReady) return;
    box.dataset.lookupReady = "1";
    const input = box.querySelector("[data-lookup-text]");
    const hidden = box.querySelector("[data-lookup-value]");
    if (!input || !hidden) return;
    const list = document.createElement("ul");
    list.id = input.id + "-listbox";
    list.className = "lookup-list";
    list.setAttribute("role", "listbox");
    list.hidden = true;
    const label = document.querySelector('label[for="' + input.id + '"]');
    if (label) {
      label.id = label.id || input.id + "-label";
      list.setAttribute("aria-labelledby", label.id);
    } else if (input.getAttribute("aria-label")) {
      list.setAttribute("aria-label", input.getAttribute("aria-label"));
    }
    box.appendChild(list);
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", list.id);
    input.setAttribute("autocomplete", "off");

    let timer = null;
    let active = -1;
    let asked = 0;

    function options() {
      return Array.prototype.slice.call(list.querySelectorAll("[role=option]"));
    }

    function open(yes) {
      list.hidden = !yes;
      input.setAttribute("aria-expanded", yes ? "true" : "false");
      if (!yes) highlight(-1);
    }

    function highlight(index) {
      const all = options();
      active = index;
      all.forEach(function (option, i) {
        option.setAttribute("aria-selected", i === index ? "true" : "false");
        option.classList.toggle("active", i === index);
      });
      if (index >= 0 && all[index]) {
        input.setAttribute("aria-activedescendant", all[index].id);
        all[index].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function url(text) {
      const address = new URL(box.dataset.lookup, window.location.href);
      address.searchParams.set("q", text);
      // another field's choice that narrows this one's suggestions (a deal's contact: its counterparty's)
      const other = input.dataset.lookupWith && input.form && input.form.elements.namedItem(input.dataset.lookupWith);
      if (other && other.value) address.searchParams.set(input.dataset.lookupWith, other.value);
      return address.toString();
    }

    function fetchOptions() {
      const text = input.value.trim();
      if (text.length < MIN_LENGTH) {
        list.replaceChildren();
        open(false);
        return;
      }
      const ticket = ++asked;
      fetch(url(text), { credentials: "same-origin", headers: { Accept: "text/html" } })
        .then(function (response) { return response.ok ? response.text() : ""; })
        .then(function (html) {
          if (ticket !== asked) return; // an older answer after a newer question
          const parsed = new DOMParser().parseFromString("<ul>" + html + "</ul>", "text/html");
          list.replaceChildren.apply(list, Array.prototype.slice.call(parsed.body.firstChild.childNodes));
          options().forEach(function (option, i) { option.id = input.id + "-option-" + i; });
          open(document.activeElement === input && list.children.length > 0);
          highlight(-1);
        })
        .catch(function () { /* offline: the text is posted and resolved by the server */ });
    }

    function pick(option) {
      hidden.value = option.dataset.value;
      input.value = option.dataset.text;
      open(false);
      input.dispatchEvent(new Event("change", { bubbles: true }));
    }

    input.addEventListener("input", function () {
      hidden.value = "";
      window.clearTimeout(timer);
      timer = window.setTimeout(fetchOptions, DELAY);
    });

    input.addEventListener("keydown", function (event) {
      const all = options();
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        if (list.hidden) {
          if (all.length) { open(true); highlight(event.key === "ArrowDown" ? 0 : all.length - 1); }
          else { fetchOptions(); }
          return;
        }
        if (!all.length) return;
        const step = event.key === "ArrowDown" ? 1 : -1;
        highlight((active + step + all.length) % all.length);
      } else if (event.key === "Enter") {
        if (!list.hidden && active >= 0 && all[active]) {
          event.preventDefault(); // pick, don't submit
          pick(all[active]);
        }
      } else if (event.key === "Escape") {
        if (!list.hidden) {
          event.preventDefault();
          open(false);
        }
      } else if (event.key === "Tab") {
        open(false);
      }
    });

    input.addEventListener("blur", function () { open(false); });
    // Leaving the field after typing is not a choice: a toolbar that refreshes on «change»
    // waits for a pick (dispatched by pick() above) or for Enter, which submits the text.
    input.addEventListener("change", function (event) {
      if (event.isTrusted) event.stopPropagation();
    });
    // a press on the list keeps the focus in the input, so the click below still finds it open
    list.addEventListener("mousedown", function (event) { event.preventDefault(); });
    list.addEventListener("click", function (event) {
      const option = event.target.closest("[role=option]");
      if (option) pick(option);
    });
  }

  function setupAll(root) {
    (root || document).querySelectorAll("[data-lookup]").forEach(setup);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { setupAll(); });
  } else {
    setupAll();
  }
  // forms swapped in by htmx
  document.addEventListener("htmx:load", function (event) {
    if (event.detail && event.detail.elt instanceof Element) {
      if (event.detail.elt.matches("[data-lookup]")) setup(event.detail.elt);
      setupAll(event.detail.elt);
    }
  });
})();
