// The live-person check in the console: "Challenge" asks videoreg for a fresh code and action
// (shown on the citizen's page at once), the console shows them with a countdown and follows
// what the citizen's page does (shown, a wrong code, passed). A spoken code is confirmed with
// "Code heard". Approval waits for a passed challenge when the service requires one; the
// server checks it again.

import { $, postJson, refusal, t } from "./staff.js";

const panel = () => $("liveness");
let live = null; // { id, until }
let timer = null;
let passed = false;
let onChange = () => {};

/// Whether approval may go ahead as far as the check is concerned.
export const challengeDone = () => passed || panel().dataset.required !== "true";

/// The missing line for the checklist summary, or null.
export const challengeMissing = () => (challengeDone() ? null : t("comprobación de persona real", "live-person check"));

function status(text) {
  $("challenge-status").textContent = text;
}

function setPassed(value) {
  passed = value;
  $("challenge-passed").checked = value;
  if (value) {
    // Done: the countdown and the "heard" box have nothing more to say.
    $("challenge-timer").hidden = true;
    $("challenge-heard").parentElement.hidden = true;
  }
  onChange();
}

function stop() {
  clearInterval(timer);
  timer = null;
  $("challenge-heard").disabled = true;
}

/// Back to no challenge (a new call, or the call ended); `alreadyPassed` from the call's
/// details after a reload.
export function resetChallenge(alreadyPassed = false) {
  stop();
  live = null;
  $("challenge-live").hidden = true;
  $("challenge-heard").checked = false;
  status("");
  setPassed(alreadyPassed);
}

function countdown() {
  const left = Math.max(0, Math.ceil((live.until - Date.now()) / 1000));
  $("challenge-timer").textContent = `${left} s`;
  if (left === 0) {
    stop();
    if (!passed) status(t("Caducado: emita otro reto.", "Expired: issue a new challenge."));
  }
}

async function issue(call, csrf) {
  if (!call() || !call().ticket) return;
  const body = { language: $("challenge-language") ? $("challenge-language").value : undefined };
  const r = await postJson(`/staff/calls/${call().ticket}/challenge`, csrf, body);
  const c = await r.json().catch(() => ({}));
  if (r.status !== 201) {
    status(refusal(c, t("No se pudo emitir el reto.", "The challenge could not be issued.")));
    return;
  }
  stop();
  live = { id: c.challenge, until: Date.now() + c.expires_in_secs * 1000 };
  $("challenge-code").textContent = c.code;
  $("challenge-action").textContent = t(c.action.es, c.action.en);
  $("challenge-heard").checked = false;
  $("challenge-heard").disabled = !c.spoken;
  $("challenge-heard").parentElement.hidden = !c.spoken;
  $("challenge-timer").hidden = false;
  $("challenge-live").hidden = false;
  status(t("Enviado a la pantalla del ciudadano…", "Sent to the citizen's screen…"));
  countdown();
  timer = setInterval(countdown, 1000);
}

async function heard(call, csrf) {
  if (!live || !call() || !call().ticket) return;
  const r = await postJson(`/staff/calls/${call().ticket}/challenge/${live.id}/heard`, csrf);
  const body = await r.json().catch(() => ({}));
  if (r.ok) {
    stop();
    status(t("Superado: código oído.", "Passed: code heard."));
    setPassed(true);
  } else {
    $("challenge-heard").checked = false;
    status(refusal(body, t("No se pudo confirmar.", "It could not be confirmed.")));
  }
}

/// What the server says about the challenge (the `challenge` message).
export function challengeUpdate(m) {
  if (!live || m.challenge !== live.id) return;
  const secs = (m.after_ms / 1000).toFixed(1);
  switch (m.state) {
    case "shown": status(t(`En la pantalla del ciudadano (${secs} s).`, `On the citizen's screen (${secs} s).`)); break;
    case "passed":
      stop();
      status(t(`Superado: código escrito correcto a los ${secs} s.`, `Passed: right code typed after ${secs} s.`));
      setPassed(true);
      break;
    case "wrong_code": status(t("El ciudadano escribió un código equivocado.", "The citizen typed a wrong code.")); break;
    case "failed": stop(); status(t("Fallido: tres códigos equivocados. Emita otro reto.", "Failed: three wrong codes. Issue a new challenge.")); break;
    case "expired": stop(); status(t("Respondido tarde: emita otro reto.", "Answered late: issue a new challenge.")); break;
    default: break;
  }
}

/// Wires the buttons; `call()` is the current call, `changed` runs when passing changes.
export function wireChallenge(call, csrf, changed) {
  onChange = changed;
  $("challenge-issue").onclick = () => issue(call, csrf);
  $("challenge-heard").onchange = () => { if ($("challenge-heard").checked) heard(call, csrf); };
}
