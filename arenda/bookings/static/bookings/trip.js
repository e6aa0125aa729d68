// The driver's trip page (bookings/templates/bookings/trip/page.html; docs/trip-page.md).
// Without this script the page works as plain forms. With it:
//  - what is typed in the waybill form is kept on the phone (localStorage, per link);
//  - photos are made smaller on the phone before they are sent (JPEG, 1600 px long side);
//  - «Send» queues the submission on the phone with an idempotency key and sends it; without
//    a network it stays queued and goes when the network is back («online», then retries
//    with back-off); the server answers a key it has seen with the report it made, so a
//    submission sent twice makes one report;
//  - the page asks for its state now and then and reloads when the manager decided.
(function () {
  "use strict";
  const root = document.getElementById("trip-root");
  if (!root) return;
  const token = root.dataset.token;
  const DRAFT = "trip:" + token + ":draft";
  const QUEUE = "trip:" + token + ":queue";
  const LONG_SIDE = 1600;
  const QUALITY = 0.8;
  const form = document.getElementById("trip-report-form");
  const queueBox = document.getElementById("trip-queue");
  let photos = []; // [{name, dataUrl}] resized, in the order chosen
  let retryDelay = 2000;
  let retryTimer = null;
  let sending = false;

  function read(key, fallback) {
    try { return JSON.parse(localStorage.getItem(key)) ?? fallback; } catch (e) { return fallback; }
  }
  function write(key, value) {
    try { localStorage.setItem(key, JSON.stringify(value)); return true; } catch (e) { return false; }
  }
  function newKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }
  function say(text, kind) {
    if (!queueBox) return;
    queueBox.hidden = !text;
    queueBox.textContent = text || "";
    queueBox.classList.toggle("sent", kind === "sent");
    if (text) queueBox.scrollIntoView({ block: "center", behavior: "smooth" });
  }

  // --- what was typed -------------------------------------------------------------------
  function fields() {
    const data = {};
    if (!form) return data;
    for (const el of form.elements) {
      if (el.name && el.type !== "file" && el.type !== "hidden" && el.type !== "submit") data[el.name] = el.value;
    }
    return data;
  }
  function restoreDraft() {
    if (!form || form.querySelector(".has-error")) return; // the server's answer wins
    const draft = read(DRAFT, null);
    if (!draft) return;
    for (const [name, value] of Object.entries(draft)) {
      const el = form.elements.namedItem(name);
      if (el && el.type !== "file" && value !== "") el.value = value;
    }
  }

  // --- photos, resized on the phone -----------------------------------------------------
  // The page's Content-Security-Policy allows data: images, not blob: ones: decode the file
  // with createImageBitmap, or read it as a data: URL where that is missing.
  function readAsDataUrl(file) {
    return new Promise((resolve, reject) => {
      const reader = new FileReader();
      reader.onload = () => resolve(reader.result);
      reader.onerror = () => reject(reader.error);
      reader.readAsDataURL(file);
    });
  }
  async function decode(file) {
    if (window.createImageBitmap) {
      try { return await createImageBitmap(file, { imageOrientation: "from-image" }); } catch (e) { /* below */ }
    }
    const url = await readAsDataUrl(file);
    return new Promise((resolve, reject) => {
      const img = new Image();
      img.onload = () => resolve(img);
      img.onerror = () => reject(new Error("not an image"));
      img.src = url;
    });
  }
  async function resize(file) {
    const img = await decode(file);
    const width = img.naturalWidth || img.width, height = img.naturalHeight || img.height;
    const scale = Math.min(1, LONG_SIDE / Math.max(width, height));
    const canvas = document.createElement("canvas");
    canvas.width = Math.max(1, Math.round(width * scale));
    canvas.height = Math.max(1, Math.round(height * scale));
    canvas.getContext("2d").drawImage(img, 0, 0, canvas.width, canvas.height);
    if (img.close) img.close();
    const name = (file.name || "photo").replace(/\.[^.]*$/, "") + ".jpg";
    return { name, dataUrl: canvas.toDataURL("image/jpeg", QUALITY) };
  }
  function showThumbs() {
    const box = document.getElementById("trip-thumbs");
    if (!box) return;
    box.replaceChildren(...photos.map((p) => {
      const img = document.createElement("img");
      img.src = p.dataUrl;
      img.alt = p.name;
      return img;
    }));
  }
  function toBlob(dataUrl) {
    const [head, body] = dataUrl.split(",");
    const type = head.slice(5).split(";")[0] || "image/jpeg";
    const bytes = atob(body);
    const out = new Uint8Array(bytes.length);
    for (let i = 0; i < bytes.length; i++) out[i] = bytes.charCodeAt(i);
    return new Blob([out], { type });
  }

  // --- errors by field ------------------------------------------------------------------
  function showErrors(errors) {
    if (!form) return;
    form.querySelectorAll("[data-errors-for]").forEach((box) => box.replaceChildren());
    form.querySelectorAll(".trip-field.has-error").forEach((el) => el.classList.remove("has-error"));
    let first = null;
    for (const [name, messages] of Object.entries(errors || {})) {
      const box = form.querySelector('[data-errors-for="' + name + '"]') || form.querySelector('[data-errors-for="number"]');
      if (!box) continue;
      box.closest(".trip-field")?.classList.add("has-error");
      for (const message of messages) {
        const p = document.createElement("p");
        p.className = "error";
        p.textContent = message;
        box.append(p);
      }
      first = first || box;
    }
    if (first) first.scrollIntoView({ block: "center" });
  }

  // --- the queue --------------------------------------------------------------------------
  function queue() { return read(QUEUE, []); }
  function saveQueue(items) {
    if (write(QUEUE, items)) return true;
    // Over the quota: keep the figures, drop the photos of the oldest first.
    for (const item of items) { item.photos = []; if (write(QUEUE, items)) return true; }
    return false;
  }
  function scheduleRetry() {
    clearTimeout(retryTimer);
    retryTimer = setTimeout(flush, retryDelay);
    retryDelay = Math.min(retryDelay * 2, 60000);
  }
  async function flush() {
    if (sending || !form) return;
    const items = queue();
    if (!items.length) return;
    if (navigator.onLine === false) { say(root.dataset.saved); return; }
    sending = true;
    say(root.dataset.sending);
    try {
      while (items.length) {
        const item = items[0];
        const body = new FormData();
        for (const [name, value] of Object.entries(item.fields)) body.append(name, value);
        body.append("idempotency_key", item.key);
        item.photos.forEach((p) => body.append("photos", toBlob(p.dataUrl), p.name));
        let response;
        try {
          response = await fetch(form.action, {
            method: "POST", body, credentials: "same-origin", headers: { Accept: "application/json" },
          });
        } catch (e) {
          say(root.dataset.saved); // no network: it stays on the phone
          scheduleRetry();
          return;
        }
        if (response.ok) {
          items.shift();
          saveQueue(items);
          retryDelay = 2000;
          localStorage.removeItem(DRAFT);
          say(root.dataset.sent, "sent");
          setTimeout(() => location.reload(), 800);
          continue;
        }
        if (response.status === 400 || response.status === 409 || response.status === 404 || response.status === 403) {
          // Refused: the driver corrects it; it is not sent again by itself.
          items.shift();
          saveQueue(items);
          let errors = {};
          try { const data = await response.json(); errors = data.errors || { number: [data.detail] }; } catch (e) { /* none */ }
          say(root.dataset.failed);
          showErrors(errors);
          continue;
        }
        say(root.dataset.saved); // the server had a bad moment: try again later
        scheduleRetry();
        return;
      }
    } finally {
      sending = false;
    }
  }

  // --- the state, asked now and then ----------------------------------------------------------
  let lastState = null;
  async function poll() {
    try {
      const response = await fetch(root.dataset.stateUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (!response.ok) return;
      const state = JSON.stringify(await response.json());
      const editing = form && form.contains(document.activeElement);
      if (lastState !== null && state !== lastState && !editing && !queue().length) location.reload();
      lastState = state;
    } catch (e) { /* offline: ask again later */ }
  }

  if (form) {
    restoreDraft();
    form.addEventListener("input", () => write(DRAFT, fields()));
    const input = form.querySelector('input[type="file"][name="photos"]');
    const max = Number((input && input.dataset.max) || 6);
    if (input) {
      input.addEventListener("change", async () => {
        for (const file of input.files) {
          if (photos.length >= max) { say(root.dataset.tooMany); break; }
          try { photos.push(await resize(file)); } catch (e) { /* not an image: the server says so */ }
        }
        input.value = "";
        showThumbs();
      });
    }
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const items = queue();
      items.push({ key: newKey(), fields: fields(), photos: photos.slice() });
      if (!saveQueue(items)) { say(root.dataset.failed); return; }
      photos = [];
      showThumbs();
      say(root.dataset.saved);
      flush();
    });
  }
  // The status buttons: sent by the script so that no network is a message on the page,
  // not the browser's error page; the page reloads to show the time recorded.
  document.querySelectorAll(".trip-mark-form").forEach((markForm) => {
    markForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      const button = markForm.querySelector("button");
      button.disabled = true;
      let box = document.getElementById("trip-mark-error");
      const show = (text) => {
        if (!box) {
          box = document.createElement("div");
          box.id = "trip-mark-error";
          box.className = "message error";
          box.setAttribute("role", "alert");
          document.getElementById("trip-marks").prepend(box);
        }
        box.textContent = text;
        box.scrollIntoView({ block: "center" });
      };
      try {
        const response = await fetch(markForm.action, {
          method: "POST", credentials: "same-origin", headers: { Accept: "application/json" },
        });
        if (response.ok) { location.reload(); return; }
        let detail = "";
        try { detail = (await response.json()).detail; } catch (e) { /* none */ }
        show(detail || root.dataset.failed);
      } catch (e) {
        show(root.dataset.noNetwork);
      }
      button.disabled = false;
    });
  });

  window.addEventListener("online", () => { retryDelay = 2000; flush(); });
  flush();
  poll();
  setInterval(poll, 30000);
})();
