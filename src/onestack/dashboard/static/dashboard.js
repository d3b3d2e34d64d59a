// OneStack dashboard: the little that needs JavaScript. No inline script (the CSP forbids it).
"use strict";

// Whether the page's live parts (liveParts below) show a resource at work.
const partsBusy = () => document.querySelector("[data-live-part][data-busy]") !== null;

// A table with data-live="rows" refreshes its rows while any row is in a state that changes
// by itself (data-busy), from the same page with ?fragment=rows. A table with data-follow
// also follows the page's live parts: it refreshes while they are busy and when they change
// (a stack's events while the stack works, even when the work began elsewhere).
function liveTables() {
  for (const table of document.querySelectorAll("table[data-live]")) {
    const body = table.tBodies[0];
    const follows = "follow" in table.dataset;
    let delay = 2000;
    const refresh = async () => {
      const url = new URL(window.location.href);
      url.searchParams.set("fragment", table.dataset.live);
      try {
        const response = await fetch(url, { credentials: "same-origin" });
        if (response.redirected || !response.ok) return false;  // signed out: stop polling
        body.innerHTML = await response.text();
        delay = 2000;
      } catch (e) {
        delay = Math.min(delay * 2, 30000);
      }
      return true;
    };
    const tick = async () => {
      if (!body.querySelector("[data-busy]") && !(follows && partsBusy())) {
        setTimeout(tick, 5000);
        return;
      }
      if (await refresh()) setTimeout(tick, delay);
    };
    setTimeout(tick, delay);
    if (follows) document.addEventListener("live:changed", refresh);
  }
}

// A detail page's parts that follow its resource: the first part's data-live-part names a
// fragment whose top-level elements replace the page's elements of the same id. It is asked
// every 2 s while a part is busy (data-busy) and every 10 s otherwise, so that a change made
// elsewhere (the CLI, another tab) shows too. A part with an open menu or the focus waits.
// A change is announced as the document's "live:changed" event.
function liveParts() {
  const first = document.querySelector("[data-live-part]");
  if (!first) return;
  const source = first.dataset.livePart;
  const pace = () => (partsBusy() ? 2000 : 10000);
  const swap = (html) => {
    const fresh = document.createElement("template");
    fresh.innerHTML = html;
    let changed = false;
    for (const part of Array.from(fresh.content.children)) {
      const old = part.id && document.getElementById(part.id);
      if (!old || old.outerHTML === part.outerHTML) continue;
      if (old.querySelector("details[open]") || old.contains(document.activeElement)) continue;
      old.replaceWith(part);
      changed = true;
    }
    if (changed) document.dispatchEvent(new CustomEvent("live:changed"));
  };
  const gone = () => {
    const note = document.createElement("p");
    note.className = "message warning";
    note.setAttribute("role", "status");
    note.textContent = "It no longer exists: it has been deleted.";
    document.querySelector("main")?.prepend(note);
  };
  const tick = async () => {
    if (!document.hidden) {
      try {
        const response = await fetch(source, { credentials: "same-origin" });
        if (response.status === 404) return gone();
        if (response.redirected || !response.ok) return;  // signed out: stop polling
        swap(await response.text());
      } catch (e) {
        /* try again on the next tick */
      }
    }
    setTimeout(tick, pace());
  };
  setTimeout(tick, pace());
}

document.addEventListener("DOMContentLoaded", () => {
  liveTables();
  liveParts();
});
