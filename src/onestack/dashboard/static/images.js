// Create Image: the form's fields first (the server checks them and makes the image), then
// the file itself, streamed to the dashboard with its progress shown. No inline script.
"use strict";

function clearErrors(form) {
  for (const p of form.querySelectorAll("p.error")) p.remove();
  for (const f of form.querySelectorAll(".field.invalid")) f.classList.remove("invalid");
  for (const m of document.querySelectorAll(".message.error.form-error")) m.remove();
}

function showErrors(form, answer) {
  for (const [name, text] of Object.entries(answer.errors || {})) {
    const input = document.getElementById(`id_${name}`);
    if (!input) continue;
    const p = document.createElement("p");
    p.className = "error";
    p.id = `err_${name}`;
    p.textContent = text;
    input.closest(".field").classList.add("invalid");
    input.setAttribute("aria-invalid", "true");
    input.setAttribute("aria-describedby", p.id);
    input.closest(".field").appendChild(p);
  }
  if (answer.error) {
    const div = document.createElement("div");
    div.className = "message error form-error";
    div.setAttribute("role", "alert");
    div.textContent = answer.error;
    form.parentNode.insertBefore(div, form);
  }
}

function upload(file, answer, csrf, onFail) {
  const box = document.getElementById("upload");
  const bar = document.getElementById("upload-progress");
  const text = document.getElementById("upload-text");
  box.classList.remove("hidden");
  const xhr = new XMLHttpRequest();
  xhr.open("PUT", answer.upload);
  xhr.setRequestHeader("X-CSRFToken", csrf);
  xhr.setRequestHeader("Content-Type", "application/octet-stream");
  xhr.upload.addEventListener("progress", (event) => {
    if (!event.lengthComputable) return;
    const percent = Math.floor((event.loaded / event.total) * 100);
    bar.value = percent;
    text.textContent = `${percent}% of ${file.name}`;
  });
  xhr.addEventListener("load", () => {
    // Done or refused, the image's page says which (the server left a message for it).
    window.location.assign(answer.done);
  });
  xhr.addEventListener("error", () => onFail("The upload was interrupted."));
  xhr.send(file);
}

document.addEventListener("DOMContentLoaded", () => {
  const input = document.getElementById("id_file");
  if (!input) return;
  const form = input.closest("form");
  const button = form.querySelector("button[type=submit]");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    button.disabled = true;
    const csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
    const fields = new URLSearchParams();
    for (const [key, value] of new FormData(form)) {
      if (typeof value === "string") fields.append(key, value);
    }
    let answer = {};
    let response;
    try {
      response = await fetch(form.action, {
        method: "POST",
        body: fields,
        headers: { accept: "application/json" },
        credentials: "same-origin",
      });
      answer = await response.json();
    } catch (e) {
      answer = { error: "The dashboard did not answer. Try again." };
    }
    if (!response || !response.ok) {
      showErrors(form, answer);
      button.disabled = false;
      return;
    }
    if (!input.files.length) {
      window.location.assign(answer.done);
      return;
    }
    upload(input.files[0], answer, csrf, (text) => {
      showErrors(form, { error: text });
      button.disabled = false;
    });
  });
});
