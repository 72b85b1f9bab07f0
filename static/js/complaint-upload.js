// Progressive enhancement of the complaint form's sending: photos are previewed and, when large,
// made smaller in the browser (longest side at most 2048 px, JPEG) before upload; the form is sent
// with a progress bar and its button disabled. Without this file the form posts as usual, and the
// server checks every file either way.
(function () {
  "use strict";
  var form = document.getElementById("complaint-form");
  var input = form && form.querySelector("input[type=file][name=attachments]");
  var status = document.getElementById("send-status");
  if (!form || !input || !status || !window.FormData || !window.XMLHttpRequest) { return; }
  var previews = document.getElementById("photo-previews");
  var bar = status.querySelector("progress");
  var text = status.querySelector(".send-text");
  var button = form.querySelector("button[type=submit]");
  var buttonLabel = button.textContent;
  var lang = document.documentElement.lang || "id";
  var MAX_SIDE = 2048;
  var RESIZE_OVER_BYTES = 1.5 * 1024 * 1024;
  var pending = Promise.resolve();

  function say(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_, key) { return values[key]; });
  }
  function size(bytes) {
    var mb = bytes / (1024 * 1024);
    if (mb >= 1) { return mb.toLocaleString(lang, { maximumFractionDigits: 1 }) + " MB"; }
    return Math.max(1, Math.round(bytes / 1024)).toLocaleString(lang) + " KB";
  }
  function isPhoto(file) { return /^image\/(jpeg|png|webp)$/.test(file.type); }

  // A smaller JPEG of ``file`` when it is large; else the file itself.
  function shrink(file) {
    if (!isPhoto(file) || !window.createImageBitmap) { return Promise.resolve(file); }
    return createImageBitmap(file, { imageOrientation: "from-image" }).then(function (bitmap) {
      var scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
      if (scale === 1 && file.size <= RESIZE_OVER_BYTES) { bitmap.close(); return file; }
      var canvas = document.createElement("canvas");
      canvas.width = Math.round(bitmap.width * scale);
      canvas.height = Math.round(bitmap.height * scale);
      canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      bitmap.close();
      return new Promise(function (resolve) {
        canvas.toBlob(function (blob) {
          if (!blob || blob.size >= file.size) { resolve(file); return; }
          var name = file.name.replace(/\.[^.]*$/, "") + ".jpg";
          resolve(new File([blob], name, { type: "image/jpeg", lastModified: file.lastModified }));
        }, "image/jpeg", 0.85);
      });
    }).catch(function () { return file; });  // the server says what is wrong with it
  }

  function preview(original, sent) {
    var item = document.createElement("li");
    if (isPhoto(sent)) {
      var img = document.createElement("img");
      img.alt = "";
      img.className = "thumb";
      var reader = new FileReader();
      reader.onload = function () { img.src = reader.result; };
      reader.readAsDataURL(sent);
      item.appendChild(img);
    }
    var caption = document.createElement("span");
    caption.textContent = sent === original
      ? say(previews.dataset.plain, { name: original.name, size: size(original.size) })
      : say(previews.dataset.resized, {
        name: original.name, before: size(original.size), after: size(sent.size)
      });
    item.appendChild(caption);
    previews.appendChild(item);
  }

  input.addEventListener("change", function () {
    var originals = Array.prototype.slice.call(input.files);
    previews.textContent = "";
    if (!originals.length) { return; }
    status.hidden = false;
    bar.removeAttribute("value");
    text.textContent = status.dataset.preparing;
    pending = Promise.all(originals.map(shrink)).then(function (files) {
      if (window.DataTransfer) {
        var transfer = new DataTransfer();
        files.forEach(function (file) { transfer.items.add(file); });
        input.files = transfer.files;
      }
      files.forEach(function (file, i) { preview(originals[i], file); });
      status.hidden = true;
    });
  });

  function failed() {
    button.disabled = false;
    button.textContent = buttonLabel;
    bar.value = 0;
    text.textContent = status.dataset.failed;
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (button.disabled) { return; }
    button.disabled = true;
    button.textContent = status.dataset.sending;
    status.hidden = false;
    bar.removeAttribute("value");
    text.textContent = status.dataset.sending;
    pending.then(function () {
      var request = new XMLHttpRequest();
      request.open("POST", form.action || window.location.href);
      request.upload.addEventListener("progress", function (e) {
        if (!e.lengthComputable) { return; }
        var percent = Math.floor((e.loaded / e.total) * 100);
        bar.max = 100;
        bar.value = percent;
        text.textContent = say(status.dataset.progress, { percent: percent.toLocaleString(lang) + "%" });
      });
      request.addEventListener("load", function () {
        var here = window.location.href.split("#")[0];
        if (request.responseURL && request.responseURL !== here) {
          window.location.assign(request.responseURL);  // sent: the page that says so
          return;
        }
        // The form again, from the server: its errors, or when it can be sent.
        document.open();
        document.write(request.responseText);
        document.close();
      });
      request.addEventListener("error", failed);
      request.addEventListener("abort", failed);
      request.send(new FormData(form));
    });
  });
})();
