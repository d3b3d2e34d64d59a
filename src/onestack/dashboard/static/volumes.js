// Create Volume: only the chooser of the picked source is shown (all of them without JS).
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const source = document.getElementById("id_source");
  if (!source) return;
  const choosers = { image: "id_image_id", snapshot: "id_snapshot_id", volume: "id_source_volid" };
  const show = () => {
    for (const [kind, id] of Object.entries(choosers)) {
      const field = document.getElementById(id)?.closest(".field");
      if (field) field.classList.toggle("hidden", source.value !== kind);
    }
  };
  source.addEventListener("change", show);
  show();
});
