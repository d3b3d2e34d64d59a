// The launch dialog: only the chosen boot source's fields are shown (all are without JS).
"use strict";

function bootSources() {
  const select = document.getElementById("id_source");
  if (!select) return;
  const show = () => {
    for (const part of document.querySelectorAll(".source-choice")) {
      part.hidden = part.dataset.source !== select.value;
    }
  };
  select.addEventListener("change", show);
  show();
}

document.addEventListener("DOMContentLoaded", bootSources);
