// The hand-made invoice: add and remove line rows of the formset, and show the line amounts,
// the total and the VAT inside it as the user types. The server computes the real ones.
(function () {
  "use strict";
  const form = document.getElementById("invoice-form");
  if (!form) return;
  const rows = document.getElementById("line-rows");
  const template = document.getElementById("line-template");
  const totalForms = form.querySelector("input[name=lines-TOTAL_FORMS]");
  const rates = JSON.parse(form.dataset.vatRates || "{}");
  const money = new Intl.NumberFormat(document.documentElement.lang || "ru", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  const kopecks = (value) => Math.round((value + Number.EPSILON) * 100) / 100;
  const number = (input) => parseFloat(String(input ? input.value : "").replace(",", ".")) || 0;

  function rate() {
    const org = form.querySelector("select[name=organization]");
    if (org) return rates[org.value] || "";
    const fixed = form.dataset.vatRate;
    return fixed === "none" ? "" : fixed;
  }

  function recompute() {
    let total = 0;
    rows.querySelectorAll("tr.line-row:not(.removed)").forEach((row) => {
      const amount = kopecks(number(row.querySelector("input[name$=-quantity]")) * number(row.querySelector("input[name$=-price]")));
      row.querySelector(".line-amount").textContent = money.format(amount);
      total += amount;
    });
    total = kopecks(total);
    document.getElementById("live-total").textContent = money.format(total) + " ₽";
    const label = document.getElementById("live-vat-label");
    const r = parseFloat(rate());
    if (rate() === "" || Number.isNaN(r)) {
      label.textContent = label.dataset.labelNone;
      document.getElementById("live-vat").textContent = "—";
    } else {
      label.textContent = label.dataset.labelVat + " " + r + " %";
      document.getElementById("live-vat").textContent = money.format(kopecks((total * r) / (100 + r))) + " ₽";
    }
  }

  document.getElementById("add-line").addEventListener("click", () => {
    const index = parseInt(totalForms.value, 10);
    const html = template.innerHTML.replace(/__prefix__/g, String(index));
    rows.insertAdjacentHTML("beforeend", html);
    totalForms.value = String(index + 1);
    const unit = rows.lastElementChild.querySelector("input[name$=-unit]");
    if (unit && !unit.value) unit.value = "ч";
    rows.lastElementChild.querySelector("input").focus();
    recompute();
  });

  rows.addEventListener("click", (event) => {
    const button = event.target.closest(".remove-line");
    if (!button) return;
    const row = button.closest("tr");
    row.querySelector("input[name$=-DELETE]").checked = true;
    row.classList.add("removed");
    recompute();
  });

  form.addEventListener("input", recompute);
  form.addEventListener("change", recompute);
  recompute();
})();
