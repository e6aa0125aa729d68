// The signature box of the trip page's sign-off (bookings/trip/_sign.html): draw with a
// finger (pointer events), «Clear» empties it; the drawing goes into the hidden field as a
// PNG data URL, and comes back from it when the page returns with an error.
(function () {
  "use strict";
  function setup(canvas) {
    var field = document.getElementById(canvas.dataset.target);
    var form = canvas.closest("form");
    var clear = form && form.querySelector("[data-sign-clear]");
    var ctx = canvas.getContext("2d");
    var drawing = false, inked = false, last = null;

    function size() {
      var ratio = window.devicePixelRatio || 1;
      canvas.width = Math.round(canvas.clientWidth * ratio);
      canvas.height = Math.round(canvas.clientHeight * ratio);
      ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
      ctx.lineWidth = 2.5;
      ctx.lineCap = "round";
      ctx.lineJoin = "round";
      ctx.strokeStyle = "#111";
    }
    function point(event) {
      var box = canvas.getBoundingClientRect();
      return { x: event.clientX - box.left, y: event.clientY - box.top };
    }
    function save() {
      if (field) field.value = inked ? canvas.toDataURL("image/png") : "";
    }
    function restore() {
      if (!field || !field.value || field.value.indexOf("data:image/png;base64,") !== 0) return;
      var image = new Image();
      image.onload = function () {
        ctx.drawImage(image, 0, 0, canvas.clientWidth, canvas.clientHeight);
        inked = true;
      };
      image.src = field.value;
    }
    canvas.addEventListener("pointerdown", function (event) {
      event.preventDefault();
      canvas.setPointerCapture(event.pointerId);
      drawing = true;
      last = point(event);
      ctx.beginPath();
      ctx.arc(last.x, last.y, 1, 0, 2 * Math.PI);
      ctx.fill();
    });
    canvas.addEventListener("pointermove", function (event) {
      if (!drawing) return;
      event.preventDefault();
      var next = point(event);
      ctx.beginPath();
      ctx.moveTo(last.x, last.y);
      ctx.lineTo(next.x, next.y);
      ctx.stroke();
      last = next;
      inked = true;
    });
    function stop() {
      if (!drawing) return;
      drawing = false;
      save();
    }
    canvas.addEventListener("pointerup", stop);
    canvas.addEventListener("pointercancel", stop);
    canvas.addEventListener("pointerleave", stop);
    if (clear) {
      clear.addEventListener("click", function () {
        ctx.clearRect(0, 0, canvas.width, canvas.height);
        inked = false;
        save();
      });
    }
    if (form) form.addEventListener("submit", save);
    size();
    restore();
  }
  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("canvas[data-sign-pad]"), setup);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
