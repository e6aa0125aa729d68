// Small behaviours every page may use, declared in the markup with data attributes so
// that no page needs an inline script or handler (Content-Security-Policy, settings.py).
//
//   data-autosubmit          on a field: submit its form when the value changes
//   data-select-on-focus     on a field: select its text when focused (links to copy)
//   data-copy="#id"          on a button: copy the field's value, then show data-done
//   data-confirm="question"  on a form: ask before submitting
//   data-busy="Checking…"    on a form whose answer takes seconds: once sent, its submit
//                            button is disabled and says this (no second click, a sign of work)
//   data-period              on the report period <select>: a preset clears the dates
//   data-period-date         on a report date field: typing a date makes the period custom
//   data-hold-while-open     on an element htmx refreshes: not while a <details> in it is open
(function () {
  "use strict";

  function submit(form) {
    if (form.requestSubmit) form.requestSubmit();
    else form.submit();
  }

  document.addEventListener("change", function (event) {
    const field = event.target;
    if (!(field instanceof Element) || !field.form) return;
    if (field.matches("[data-period]")) {
      if (field.value !== "custom") {
        field.form.querySelectorAll("[data-period-date]").forEach(function (date) {
          date.value = "";
        });
        submit(field.form);
      }
      return;
    }
    if (field.matches("[data-period-date]")) {
      const period = field.form.querySelector("[data-period]");
      if (period) period.value = "custom";
      return;
    }
    if (field.matches("[data-autosubmit]")) submit(field.form);
  });

  document.addEventListener("focusin", function (event) {
    const field = event.target;
    if (field instanceof HTMLInputElement && field.matches("[data-select-on-focus]")) field.select();
  });

  document.addEventListener("click", function (event) {
    const button = event.target instanceof Element ? event.target.closest("[data-copy]") : null;
    if (!button) return;
    const source = document.querySelector(button.dataset.copy);
    if (!source || !navigator.clipboard) return;
    navigator.clipboard.writeText(source.value).then(function () {
      if (button.dataset.done) button.textContent = button.dataset.done;
    });
  });

  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (!(form instanceof HTMLFormElement)) return;
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
      return;
    }
    if (form.dataset.busy && !event.defaultPrevented) {
      const button = event.submitter || form.querySelector("button[type=submit]");
      form.setAttribute("aria-busy", "true");
      if (button) {
        // after the browser has taken the button's own name and value into the request
        setTimeout(function () {
          button.disabled = true;
          button.textContent = form.dataset.busy;
        }, 0);
      }
    }
  });

  // A filter in hx-trigger would need eval, which the CSP forbids; this cancels the refresh.
  document.addEventListener("htmx:beforeRequest", function (event) {
    const holder = event.target instanceof Element ? event.target.closest("[data-hold-while-open]") : null;
    if (holder && holder.querySelector("details[open]")) event.preventDefault();
  });
})();
