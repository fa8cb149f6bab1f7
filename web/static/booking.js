// The citizen's appointment (cita previa): the booking this browser holds (or found with the
// reference and the ID number), in Madrid and local time, the calendar file, cancelling, and
// from the check-in time the way into the queue: a short test call when the server asks for
// one, then the queue page with the application the check-in gives. The time can be changed
// (the booking moves; no new check of the ID number).

import { moveMine, offerSlots } from "/static/slots.js";
import { MADRID, timeFormat } from "/static/when.js";

const $ = (id) => document.getElementById(id);
const texts = JSON.parse($("texts").textContent);
const lang = $("cita").dataset.lang;
// Dates with their year: a booking may be for another year.
const { dateTime, madridAndLocal } = timeFormat(lang, texts, { year: true });
const SECTIONS = ["loading", "find", "booking"];
// Until the check-in opens the page looks again every 30 s (and says so).
const REFRESH_MS = 30000;
let refresh = null;

function show(id) { SECTIONS.forEach((s) => { $(s).hidden = s !== id; }); }
function problem(text) { $("problem").textContent = text; $("problem").hidden = !text; }
const announce = (text) => { $("announce").textContent = text; };

async function api(method, path, body) {
  const r = await fetch(path, {
    method,
    headers: body ? { "content-type": "application/json", accept: "application/json" } : { accept: "application/json" },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: r.status, body: await r.json().catch(() => ({})) };
}
const message = (b) => (b.error && b.error.message) || texts.failed;

function render(b) {
  show("booking");
  $("when").textContent = `${dateTime(new Date(b.slot), MADRID)} (${texts.madrid_time})`;
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  $("when-local").textContent = zone === MADRID ? "" : `${dateTime(new Date(b.slot), zone)} (${texts.your_time})`;
  $("ref").textContent = b.reference;
  $("masked").textContent = b.id_number;
  const live = b.status === "booked";
  $("status").textContent = texts[`status_${b.status}`] || b.status;
  $("cancel").hidden = !live;
  $("ics").hidden = !live;
  $("change-time").hidden = !(live || b.status === "cancelled");
  $("check-in").hidden = !live;
  clearTimeout(refresh);
  if (!live) return;
  if (b.may_check_in) {
    const late = Date.now() > Date.parse(b.priority_until);
    $("check-in-text").textContent = late ? texts.check_in_late : texts.check_in_now;
    $("enter").hidden = false;
  } else {
    $("check-in-text").textContent = texts.check_in_from.replace("{when}", madridAndLocal(b.check_in_from));
    $("enter").hidden = true;
    refresh = setTimeout(load, REFRESH_MS);
  }
}

async function load() {
  const { status, body } = await api("GET", "/api/v1/bookings/mine");
  if (status === 200) render(body);
  else if (status === 404) show("find");
  else { problem(message(body)); refresh = setTimeout(load, REFRESH_MS); }
}

$("find-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  problem("");
  const { status, body } = await api("POST", "/api/v1/bookings/find", { reference: $("reference").value, id_number: $("id_number").value });
  if (status === 200) render(body); else problem(message(body));
});

$("change-time").addEventListener("click", () => {
  $("change").hidden = false;
  $("change-time").hidden = true;
  offerSlots($("change-slots"), {
    texts, when: timeFormat(lang, texts), bookSlot: moveMine,
    onProblem: problem,
    onBooked: (b) => { $("change").hidden = true; announce(texts.booked); render(b); },
  });
});

let confirming = false;
$("cancel").addEventListener("click", async () => {
  if (!confirming) { confirming = true; $("cancel").textContent = texts.confirm_cancel; return; }
  const { status, body } = await api("DELETE", "/api/v1/bookings/mine");
  if (status === 200) { announce(texts.cancelled); render(body); } else problem(message(body));
});

$("enter").addEventListener("click", async () => {
  problem("");
  const test_call = sessionStorage.getItem("videoreg.test_call") || "";
  const { status, body } = await api("POST", "/api/v1/bookings/mine/check-in", { test_call });
  if (status === 200) {
    sessionStorage.removeItem("videoreg.test_call");
    sessionStorage.removeItem("videoreg.after_test");
    sessionStorage.setItem("videoreg.application", body.application);
    localStorage.removeItem("videoreg.resume");
    localStorage.removeItem("videoreg.first_position");
    location.assign(`/queue?lang=${lang}`);
  } else if (body.error && body.error.code === "test_call_required") {
    sessionStorage.removeItem("videoreg.test_call");
    sessionStorage.setItem("videoreg.after_test", "/cita");
    $("check-in-text").textContent = texts.test_first;
    $("enter").hidden = true;
    $("test-link").hidden = false;
    $("test-link").focus();
  } else {
    problem(message(body));
  }
});

load().catch(() => problem(texts.failed));
