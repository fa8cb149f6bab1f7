// The application form: the ID number decides which check detail we ask for (validity date,
// issue date for a permanent DNI, support number for a NIE) and its help; the format and the
// check letter are checked here as the server checks them; server errors are shown next to
// their field and announced; a wait after too many attempts is shown as a time. The red
// summary lists what is wrong now: a field's line leaves it as soon as the field is corrected.

const $ = (id) => document.getElementById(id);
const texts = JSON.parse($("texts").textContent);
const LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE";

/// Mirrors the server's DniNie::parse: `dni`, `nie`, or an error key.
export function parseId(raw) {
  const s = raw.toUpperCase().replace(/[\s.-]/g, "");
  let digits;
  let kind;
  if (/^\d{8}[A-Z]$/.test(s)) {
    digits = s.slice(0, 8);
    kind = "dni";
  } else if (/^[XYZ]\d{7}[A-Z]$/.test(s)) {
    digits = "XYZ".indexOf(s[0]) + s.slice(1, 8);
    kind = "nie";
  } else {
    return { error: "id_format" };
  }
  if (LETTERS[Number(digits) % 23] !== s[8]) return { error: "id_letter" };
  return { kind, value: s };
}

function contrastKind() {
  const id = parseId($("id_number").value);
  if (id.error) return null;
  if (id.kind === "nie") return "nie";
  return document.querySelector("input[name=dni_kind]:checked").value === "permanent" ? "dni_permanent" : "dni_dated";
}

function refreshContrast() {
  const kind = contrastKind();
  $("dni-kind").hidden = !kind || kind === "nie";
  if (!kind) return;
  $("contrast_label").textContent = texts[`${kind}_label`];
  $("contrast_help").textContent = texts[`${kind}_help`];
  $("contrast").setAttribute("inputmode", kind === "nie" ? "text" : "numeric");
  $("contrast").placeholder = kind === "nie" ? "E00012345" : texts.date_placeholder;
}

function checkContrast(kind, value) {
  const v = value.trim();
  if (kind === "nie") return /^[EC]\d{8}$/i.test(v.replace(/\s/g, "")) ? null : "nie_support_format";
  return /^\d{1,2}[-/.]\d{1,2}[-/.]\d{4}$/.test(v) ? null : "date_format";
}

/// The summary's lines: `{ field, text }`, `field` null for what concerns the whole form.
let shown = [];

function fieldError(field, key, message) {
  const input = $(field === "id" ? "id_number" : "contrast");
  const text = key ? (message || texts[key] || key) : "";
  $(`${field}_error`).textContent = text;
  if (key) input.setAttribute("aria-invalid", "true");
  else input.removeAttribute("aria-invalid");
  if (!key && shown.some((l) => l.field === field)) summary(shown.filter((l) => l.field !== field));
  return text;
}

function summary(lines) {
  shown = lines.filter((l) => l.text);
  const box = $("summary");
  box.replaceChildren();
  shown.forEach((l) => { const p = document.createElement("p"); p.textContent = l.text; box.append(p); });
  box.hidden = shown.length === 0;
}

const FIELD_OF = { invalid_id_number: "id", not_verified: "contrast", invalid_contrast: "contrast", document_expired: "contrast" };

async function submit(e) {
  e.preventDefault();
  const token = sessionStorage.getItem("videoreg.test_call");
  if (!token) { $("no-test").hidden = false; return; }
  const id = parseId($("id_number").value);
  const kind = contrastKind();
  const errors = [
    { field: "id", text: fieldError("id", id.error || null) },
    { field: "contrast", text: fieldError("contrast", kind ? checkContrast(kind, $("contrast").value) : null) },
  ];
  summary(errors);
  if (errors.some((l) => l.text)) { (id.error ? $("id_number") : $("contrast")).focus(); return; }
  $("submit").disabled = true;
  $("progress").textContent = texts.checking;
  try {
    const r = await fetch("/api/v1/applications", {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify({ id_number: id.value, contrast: $("contrast").value.trim(), test_call: token }),
    });
    const body = await r.json().catch(() => ({}));
    if (r.status === 201) {
      sessionStorage.removeItem("videoreg.test_call");
      sessionStorage.setItem("videoreg.application", body.application);
      sessionStorage.setItem("videoreg.id_number", id.value);
      sessionStorage.removeItem("videoreg.resume");
      location.href = `/queue?lang=${document.documentElement.lang}`;
      return;
    }
    const err = body.error || {};
    let message = err.message || texts.generic;
    if (r.status === 429) {
      const secs = Number(err.retry_after_seconds || r.headers.get("retry-after") || 60);
      const at = new Date(Date.now() + secs * 1000);
      message = texts.wait_until.replace("{t}", at.toLocaleTimeString(document.documentElement.lang === "en" ? "en-GB" : "es-ES", { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZoneName: "short" }));
    }
    if (err.code === "unavailable") {
      // The database is briefly out of reach: say so and send the same form again.
      const secs = Number(err.retry_after_seconds || r.headers.get("retry-after") || 2);
      summary([{ field: null, text: message }]);
      setTimeout(() => $("apply").requestSubmit(), secs * 1000);
      return;
    }
    if (err.code === "test_call_required") $("no-test").hidden = false;
    const field = FIELD_OF[err.code] || null;
    if (field) fieldError(field, err.code, message);
    summary([{ field, text: message }]);
  } catch {
    summary([{ field: null, text: texts.network }]);
  } finally {
    $("submit").disabled = false;
    $("progress").textContent = "";
  }
}

$("id_number").addEventListener("input", () => { fieldError("id", null); refreshContrast(); });
$("contrast").addEventListener("input", () => fieldError("contrast", null));
$("id_number").addEventListener("blur", () => { const v = $("id_number").value; if (v) fieldError("id", parseId(v).error || null); });
document.querySelectorAll("input[name=dni_kind]").forEach((r) => r.addEventListener("change", refreshContrast));
$("apply").addEventListener("submit", submit);
if (!sessionStorage.getItem("videoreg.test_call")) $("no-test").hidden = false;
