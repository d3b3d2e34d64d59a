// OneStack dashboard: the little that needs JavaScript. No inline script (the CSP forbids it).
"use strict";

// A table with data-live="rows" refreshes its rows while any row is in a state that changes
// by itself (data-busy), from the same page with ?fragment=rows.
function liveTables() {
  for (const table of document.querySelectorAll("table[data-live]")) {
    const body = table.tBodies[0];
    let delay = 2000;
    const tick = async () => {
      if (!body.querySelector("[data-busy]")) {
        setTimeout(tick, 5000);
        return;
      }
      const url = new URL(window.location.href);
      url.searchParams.set("fragment", table.dataset.live);
      try {
        const response = await fetch(url, { credentials: "same-origin" });
        if (response.redirected || !response.ok) return;  // signed out: stop polling
        body.innerHTML = await response.text();
        delay = 2000;
      } catch (e) {
        delay = Math.min(delay * 2, 30000);
      }
      setTimeout(tick, delay);
    };
    setTimeout(tick, delay);
  }
}

document.addEventListener("DOMContentLoaded", liveTables);
