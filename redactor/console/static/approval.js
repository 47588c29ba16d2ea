// The approval page: while an approved export renders, poll its state and reload when it
// changes (DONE shows the downloads). The forms themselves are plain HTML posts.
"use strict";

(() => {
  const badge = document.getElementById("state");
  if (!badge) return;
  const waiting = ["QUEUED", "RUNNING", "APPROVED"];
  const initial = badge.dataset.state;
  if (!waiting.includes(initial)) return;
  const url = `/api/exports/${encodeURIComponent(badge.dataset.export)}/job`;
  const progress = document.getElementById("progress");

  async function poll() {
    try {
      const r = await fetch(url, { credentials: "same-origin" });
      if (r.ok) {
        const job = await r.json();
        if (job.state !== initial) {
          location.reload();
          return;
        }
        if (progress) progress.firstChild.textContent = `Rendering… ${Math.round(job.progress * 100)}% `;
      }
    } catch (_) {
      /* try again */
    }
    setTimeout(poll, 1000);
  }
  setTimeout(poll, 1000);
})();
