// The call script beside the checklist: what to ask, in order (greeting, recording notice,
// document front, tilt for the hologram, back, face, closing). Each line says when it is done
// (`data-done-when`: a checklist item ticked, a still taken, `later` once any later line is
// done, `never` for the closing); the first line not done is the current one, shown open.

import { t } from "./staff.js";

/// Ticks the script's lines from the checklist's ticked ids and the still kinds taken.
export function updateScript(ticked, taken) {
  const lines = [...document.querySelectorAll("#script li[data-step]")];
  const own = lines.map((li) => {
    const [kind, what] = (li.dataset.doneWhen || "").split(":");
    if (kind === "check") return ticked.has(what);
    if (kind === "still") return taken.has(what);
    return false;
  });
  const done = lines.map((li, i) => own[i] || (li.dataset.doneWhen === "later" && own.slice(i + 1).some(Boolean)));
  const current = done.indexOf(false);
  lines.forEach((li, i) => {
    li.dataset.done = String(done[i]);
    if (i === current) li.setAttribute("aria-current", "step");
    else li.removeAttribute("aria-current");
    li.querySelector(".step-state").textContent = done[i] ? t("✓ hecho", "✓ done") : i === current ? t("ahora", "now") : "";
  });
}
