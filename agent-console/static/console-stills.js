// The stills' thumbnails, each with the server's verdict on it (sharp, blurred, glare: the
// figures and thresholds are the server's, `agent_console::still_quality`), and the viewer
// a thumbnail opens: the still at full resolution, fitted first, zoomed with buttons or a click.

import { $, t } from "./staff.js";

export const STILL_NAMES = {
  document_front: t("anverso", "front"),
  document_back: t("reverso", "back"),
  face: t("cara", "face"),
};

const VERDICTS = {
  good: t("Nítida, sin reflejos", "Sharp, no glare"),
  blurred: t("Borrosa: capture otra vez", "Blurred: capture again"),
  glare: t("Reflejo en el documento: capture otra vez", "Glare on the document: capture again"),
};

/// What the verdict's figures were.
const figures = (q) => t(`nitidez ${q.sharpness} · sobreexpuesto ${(q.glare_per_mille / 10).toFixed(1)} %`,
  `sharpness ${q.sharpness} · blown out ${(q.glare_per_mille / 10).toFixed(1)} %`);

/// Adds still `s` (as the server lists it) to the thumbnails.
export function addStill(s) {
  const name = STILL_NAMES[s.kind] || s.kind;
  const fig = document.createElement("figure");
  fig.dataset.kind = s.kind;
  const open = document.createElement("button");
  open.type = "button";
  open.className = "thumb";
  open.title = t(`Ver ${name} a tamaño completo`, `View ${name} at full size`);
  const img = document.createElement("img");
  img.src = `/staff/stills/${s.id}/thumbnail`;
  img.alt = t(`${name}: ver a tamaño completo`, `${name}: view at full size`);
  open.append(img);
  open.onclick = () => view(s, name);
  const cap = document.createElement("figcaption");
  cap.textContent = `${name} · ${s.width}×${s.height}`;
  fig.append(open, cap);
  if (s.quality) {
    const q = document.createElement("p");
    q.className = "still-quality";
    q.dataset.verdict = s.quality.verdict;
    q.textContent = VERDICTS[s.quality.verdict] || s.quality.verdict;
    q.title = figures(s.quality);
    fig.append(q);
  }
  $("stills").append(fig);
}

let zoomed = 0; // 0: fitted; otherwise the scale of the natural size

function zoomTo(scale) {
  const img = $("zoom-img");
  zoomed = scale;
  img.classList.toggle("full", scale > 0);
  img.style.width = scale > 0 ? `${img.naturalWidth * scale}px` : "";
  $("zoom-level").textContent = scale > 0 ? `${Math.round(scale * 100)} %` : t("ajustada", "fitted");
}

function view(s, name) {
  const img = $("zoom-img");
  img.alt = name;
  img.onload = () => zoomTo(0);
  img.src = `/staff/stills/${s.id}`;
  $("zoom-title").textContent = `${name} · ${s.width}×${s.height}`;
  $("zoom").showModal();
}

export function wireZoom() {
  $("zoom-img").onclick = () => zoomTo(zoomed > 0 ? 0 : 1);
  $("zoom-fit").onclick = () => zoomTo(0);
  $("zoom-in").onclick = () => zoomTo(Math.min(4, (zoomed || 0.5) * 2));
  $("zoom-out").onclick = () => zoomTo(zoomed > 0.25 ? zoomed / 2 : 0);
}
