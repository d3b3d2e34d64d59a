// Containers: uploads with a progress bar (XMLHttpRequest streams the file to the dashboard,
// which passes it on to the object store), and copying a temporary URL.
"use strict";

function objectPath(name) {
  return name.split("/").map(encodeURIComponent).join("/");
}

function uploadForm(form) {
  const progress = form.querySelector("progress");
  const problem = form.querySelector("[role=alert]");
  const button = form.querySelector("button[type=submit]");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const file = form.querySelector("input[type=file]").files[0];
    if (!file) return;
    const typed = form.querySelector("input[name=object_name]").value.trim();
    const name = form.dataset.prefix + (typed || file.name);
    const xhr = new XMLHttpRequest();
    xhr.open("PUT", form.dataset.upload + objectPath(name));
    xhr.setRequestHeader("X-CSRFToken", form.dataset.csrf);
    xhr.setRequestHeader("Content-Type", file.type || "application/octet-stream");
    problem.hidden = true;
    progress.hidden = false;
    progress.value = 0;
    button.disabled = true;
    xhr.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable) progress.value = Math.round((e.loaded / e.total) * 100);
    });
    xhr.addEventListener("load", () => {
      button.disabled = false;
      if (xhr.status >= 200 && xhr.status < 300) {
        progress.value = 100;
        window.location.assign(form.dataset.done);
        return;
      }
      let message = "The upload failed (" + xhr.status + ").";
      try { message = JSON.parse(xhr.responseText).message || message; } catch (e) { /* not JSON */ }
      problem.textContent = message;
      problem.hidden = false;
    });
    xhr.addEventListener("error", () => {
      button.disabled = false;
      problem.textContent = "The upload failed: the connection was lost.";
      problem.hidden = false;
    });
    xhr.send(file);
  });
  button.disabled = false;  // the page renders it disabled: a click before this did nothing
}

function copyButtons() {
  for (const button of document.querySelectorAll("button[data-copy]")) {
    button.addEventListener("click", async () => {
      const input = document.getElementById(button.dataset.copy);
      input.select();
      try {
        await navigator.clipboard.writeText(input.value);
        button.textContent = "Copied";
      } catch (e) {
        button.textContent = "Press Ctrl+C to copy";
      }
    });
  }
}

document.addEventListener("DOMContentLoaded", () => {
  for (const form of document.querySelectorAll("form[data-upload]")) uploadForm(form);
  copyButtons();
});
