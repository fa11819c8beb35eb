// The pages' own script: sign in and out, and draw every chart (also after htmx swaps content).
"use strict";

function safeNext(next) {
  // Only a page of this server. The browser resolves "//elsewhere", "/\\elsewhere" and
  // "/<tab>/elsewhere" to other hosts, so the address is resolved as it would, then its
  // origin checked.
  if (!next) return "/portfolio";
  let url;
  try {
    url = new URL(next, window.location.origin);
  } catch (error) {
    return "/portfolio";
  }
  if (url.origin !== window.location.origin) return "/portfolio";
  return url.pathname + url.search + url.hash;
}

async function signIn(event) {
  event.preventDefault();
  const form = event.target;
  const error = form.querySelector(".error");
  const body = JSON.stringify({ name: form.name.value, password: form.password.value });
  const answer = await fetch("/login", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: body,
  });
  if (answer.ok) {
    window.location.assign(safeNext(form.dataset.next));
    return;
  }
  const problem = await answer.json().catch(() => ({}));
  error.textContent = problem.detail || "The sign-in failed.";
  error.hidden = false;
}

async function signOut() {
  await fetch("/logout", { method: "POST" });
  window.location.assign("/login");
}

function drawCharts(root) {
  if (typeof vegaEmbed === "undefined") return;
  for (const place of root.querySelectorAll(".chart[data-spec]")) {
    if (place.dataset.drawn) continue;
    place.dataset.drawn = "yes";
    const spec = JSON.parse(place.dataset.spec);
    vegaEmbed(place, spec, window.valuegapEmbedOptions || { actions: false, renderer: "svg" })
      .catch((error) => console.error(error));
  }
}

document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("sign-in");
  if (form) form.addEventListener("submit", signIn);
  for (const button of document.querySelectorAll("[data-sign-out]")) {
    button.addEventListener("click", signOut);
  }
  drawCharts(document);
});
document.addEventListener("htmx:afterSettle", (event) => drawCharts(event.target));

// A refused htmx request (its answer is JSON problem details) says why at the top of the
// part it would have replaced, instead of nothing happening.
document.addEventListener("htmx:responseError", (event) => {
  const answer = event.detail.xhr;
  let said = `The request failed (${answer.status}).`;
  try {
    const problem = JSON.parse(answer.responseText);
    if (problem && problem.detail) said = problem.detail;
  } catch (error) {
    // not problem details: the status says what there is
  }
  const place = event.detail.target || document.querySelector("main");
  let alert = place.querySelector(":scope > .htmx-error");
  if (!alert) {
    alert = document.createElement("p");
    alert.className = "error htmx-error";
    alert.setAttribute("role", "alert");
    place.prepend(alert);
  }
  alert.textContent = said;
});
