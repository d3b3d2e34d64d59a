// Stacks: the template source form shows the input of the chosen source; the topology graph
// redraws itself while the stack is working (its SVG carries data-busy, or the page's status
// line, a live part of dashboard.js, does) and when the status line changes.
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
    const refresh = async () => {
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
    };
    const tick = async () => {
      const working = document.querySelector("[data-live-part][data-busy]");
      if (holder.querySelector("[data-busy]") || working) await refresh();
      setTimeout(tick, 2000);
    };
    setTimeout(tick, 2000);
    document.addEventListener("live:changed", refresh);
  }
}

document.addEventListener("DOMContentLoaded", () => {
  sourceSwitches();
  liveGraphs();
});
