// Stacks: the template source form shows the input of the chosen source; the topology graph
// redraws itself while the stack is working (its SVG carries data-busy).
"use strict";

function sourceSwitches() {
  for (const select of document.querySelectorAll("select[data-switch]")) {
    const group = select.dataset.switch;
    const show = () => {
      for (const field of document.querySelectorAll(`[data-for="${group}"]`)) {
        field.hidden = field.dataset.when !== select.value;
      }
    };
    select.addEventListener("change", show);
    show();
  }
}

function liveGraphs() {
  for (const holder of document.querySelectorAll("[data-refresh]")) {
    const tick = async () => {
      if (holder.querySelector("[data-busy]")) {
        const url = new URL(window.location.href);
        url.searchParams.set("tab", holder.dataset.refresh);
        url.searchParams.set("fragment", holder.dataset.refresh);
        try {
          const response = await fetch(url, { credentials: "same-origin" });
          if (response.redirected || !response.ok) return;
          holder.innerHTML = await response.text();
        } catch (e) {
          /* try again on the next tick */
        }
      }
      setTimeout(tick, 2000);
    };
    setTimeout(tick, 2000);
  }
}

document.addEventListener("DOMContentLoaded", () => {
  sourceSwitches();
  liveGraphs();
});
