// labelfree annotation page: saves each rating as it is given and shows
// the model's token-level confidence once the trace is rated.
// Trace text is model output: it is only ever put into the page as text
// (textContent), never as HTML.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("rating");
  if (!form) return;
  const status = document.getElementById("status");
  const toggle = document.getElementById("toggle");
  const mode = document.getElementById("mode");
  const comment = document.getElementById("comment");
  let spans = null;   // the tokens reply, fetched once
  let shown = false;
  let pending = null; // the comment's debounce timer
  let queued = false; // a save asked for while one is in flight
  let saving = false;

  const complete = () =>
    form.querySelector("input[name=correct]:checked") && form.querySelector("input[name=soundness]:checked");

  function setStatus(text, error) {
    status.textContent = text;
    status.classList.toggle("error", !!error);
  }

  async function save() {
    if (!complete()) {
      setStatus("Choose both the answer's correctness and the reasoning's soundness to save.");
      return;
    }
    if (saving) { queued = true; return; }
    saving = true;
    setStatus("Saving…");
    try {
      const res = await fetch(form.action, {
        method: "POST",
        headers: { "Accept": "application/json", "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams(new FormData(form)),
      });
      if (!res.ok) {
        setStatus("Not saved: " + (await res.text()).trim(), true);
      } else {
        const reply = await res.json();
        const first = form.dataset.rated !== "true";
        form.dataset.rated = "true";
        setStatus("Saved " + new Date(reply.saved).toLocaleTimeString());
        toggle.disabled = false;
        if (first) {
          const n = document.getElementById("rated-count");
          n.textContent = String(Number(n.textContent) + 1);
          const bar = document.querySelector("header progress");
          bar.value = Number(n.textContent);
          document.getElementById("reveal").textContent = "";
        }
      }
    } catch (e) {
      setStatus("Not saved: the server did not answer (" + e.message + ")", true);
    } finally {
      saving = false;
      if (queued) { queued = false; save(); }
    }
  }

  form.addEventListener("change", (e) => {
    if (e.target === comment) return;
    save();
  });
  comment.addEventListener("input", () => {
    clearTimeout(pending);
    pending = setTimeout(save, 800);
  });
  comment.addEventListener("change", () => { clearTimeout(pending); save(); });
  form.addEventListener("submit", (e) => { e.preventDefault(); save(); });

  // shade returns the background of a span: red, stronger where the model
  // was less sure (low probability, or high entropy relative to the
  // trace's highest).
  function shade(s, m, hmax) {
    let a = 0;
    if (m === "p" && s.p !== undefined) a = 1 - s.p;
    if (m === "h" && s.h !== undefined && hmax > 0) a = s.h / hmax;
    return "rgba(214, 39, 40, " + (0.85 * Math.min(1, Math.max(0, a))).toFixed(3) + ")";
  }

  function render() {
    const box = document.getElementById("spans");
    box.replaceChildren();
    const legend = document.getElementById("legend");
    if (!spans.spans || spans.spans.length === 0) {
      legend.textContent = "No token confidence for this trace: " + (spans.no_shading || "none recorded") + ".";
      return;
    }
    const m = mode.value;
    const hmax = Math.max(0, ...spans.spans.map((s) => s.h || 0));
    for (const s of spans.spans) {
      const el = document.createElement("span");
      el.textContent = s.text;
      el.style.backgroundColor = shade(s, m, hmax);
      const tip = [];
      if (s.p !== undefined) tip.push("p = " + s.p.toPrecision(3));
      if (s.h !== undefined) tip.push("entropy = " + s.h.toPrecision(3) + " nats");
      el.title = tip.join(", ");
      box.appendChild(el);
    }
    legend.textContent = m === "p"
      ? "Darker red: the model gave the token a lower probability (white: p = 1). Hover a token for its numbers."
      : "Darker red: the model's next-token distribution had higher entropy (darkest: this trace's highest, " +
        hmax.toPrecision(3) + " nats). Hover a token for its numbers.";
  }

  async function show() {
    if (!spans) {
      const res = await fetch(form.dataset.tokens, { headers: { "Accept": "application/json" } });
      if (!res.ok) {
        setStatus("Cannot show the confidence: " + (await res.text()).trim(), true);
        return;
      }
      spans = await res.json();
      document.getElementById("reveal").textContent =
        "Uncertainty of this trace (" + spans.estimator + "): " + spans.u.toPrecision(4) +
        ", quantile " + spans.quantile + " of " + spans.quantiles + " (1 = most confident).";
    }
    render();
  }

  toggle.addEventListener("click", async () => {
    shown = !shown;
    if (shown) await show();
    document.getElementById("shaded").hidden = !shown;
    document.getElementById("plain").hidden = shown;
    toggle.textContent = shown ? "Hide token confidence" : "Show token confidence";
  });
  mode.addEventListener("change", () => { if (shown && spans) render(); });
});
