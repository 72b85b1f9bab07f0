// Photo redaction: draw rectangles on the photo; each one fills the next empty row of numbers
// (pixels of the photo itself). Without this script the numbers are typed by hand.
(function () {
  "use strict";
  var canvas = document.getElementById("redact-canvas");
  var image = document.getElementById("redact-image");
  var form = document.getElementById("redact-form");
  if (!canvas || !image || !form) { return; }
  var width = Number(canvas.dataset.width), height = Number(canvas.dataset.height);
  var rows = Array.prototype.slice.call(form.querySelectorAll(".redact-row")).map(function (row) {
    return ["x", "y", "w", "h"].map(function (part) {
      return row.querySelector("input[name='" + part + row.dataset.row + "']");
    });
  });
  var clear = document.getElementById("redact-clear");
  canvas.classList.add("drawable");

  function scale() { return width / image.getBoundingClientRect().width; }

  function values(row) {
    return row.map(function (input) { return input.value === "" ? null : Number(input.value); });
  }

  function place(box, x, y, w, h) {
    var k = scale();
    box.style.left = (x / k) + "px";
    box.style.top = (y / k) + "px";
    box.style.width = (w / k) + "px";
    box.style.height = (h / k) + "px";
  }

  function render() {
    canvas.querySelectorAll(".redact-box").forEach(function (box) { box.remove(); });
    rows.forEach(function (row, index) {
      var v = values(row);
      if (v.some(function (n) { return n === null; }) || !v[2] || !v[3]) { return; }
      var box = document.createElement("div");
      box.className = "redact-box";
      box.textContent = String(index + 1);
      place(box, v[0], v[1], v[2], v[3]);
      canvas.appendChild(box);
    });
    if (clear) { clear.hidden = false; }
  }

  function point(event) {
    var rect = image.getBoundingClientRect(), k = scale();
    var x = Math.min(Math.max(event.clientX - rect.left, 0), rect.width);
    var y = Math.min(Math.max(event.clientY - rect.top, 0), rect.height);
    return { x: Math.round(x * k), y: Math.round(y * k) };
  }

  var start = null, drawing = null;
  canvas.addEventListener("pointerdown", function (event) {
    start = point(event);
    drawing = document.createElement("div");
    drawing.className = "redact-box drawing";
    canvas.appendChild(drawing);
    canvas.setPointerCapture(event.pointerId);
    event.preventDefault();
  });
  canvas.addEventListener("pointermove", function (event) {
    if (!start) { return; }
    var p = point(event);
    place(drawing, Math.min(start.x, p.x), Math.min(start.y, p.y),
      Math.abs(p.x - start.x), Math.abs(p.y - start.y));
  });
  canvas.addEventListener("pointerup", function (event) {
    if (!start) { return; }
    var p = point(event);
    var box = [Math.min(start.x, p.x), Math.min(start.y, p.y),
      Math.abs(p.x - start.x), Math.abs(p.y - start.y)];
    start = null;
    drawing.remove();
    if (box[2] < 2 || box[3] < 2) { return; }
    var free = rows.filter(function (row) {
      return values(row).every(function (n) { return n === null; });
    })[0];
    if (!free) { return; }
    free.forEach(function (input, i) { input.value = String(box[i]); });
    render();
  });
  form.addEventListener("input", render);
  window.addEventListener("resize", render);
  if (clear) {
    clear.addEventListener("click", function () {
      rows.forEach(function (row) { row.forEach(function (input) { input.value = ""; }); });
      render();
    });
  }
  if (image.complete) { render(); } else { image.addEventListener("load", render); }
})();
