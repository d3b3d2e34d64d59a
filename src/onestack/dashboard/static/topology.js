// The network topology redraws itself: every few seconds the server's SVG fragment is fetched
// again and swapped in when it changed (no inline script: the CSP forbids it).
"use strict";

function liveTopology() {
  const holder = document.querySelector("[data-topology]");
  if (!holder) return;
  let last = holder.innerHTML;
  let delay = 3000;
  const tick = async () => {
    if (document.hidden) {
      setTimeout(tick, delay);
      return;
    }
    try {
      const response = await fetch(holder.dataset.topology, { credentials: "same-origin" });
      if (response.redirected || !response.ok) return;  // signed out: stop
      const text = await response.text();
      if (text !== last) {
        holder.innerHTML = text;
        last = text;
      }
      delay = 3000;
    } catch (e) {
      delay = Math.min(delay * 2, 30000);
    }
    setTimeout(tick, delay);
  };
  setTimeout(tick, delay);
}

document.addEventListener("DOMContentLoaded", liveTopology);
