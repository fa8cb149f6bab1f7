// The agent console: state, the queue at a glance, taking and accepting citizens, the call
// (media through videoreg), stills captured from the citizen's video, the checklist and the
// decision. Every rule is checked again on the server; this page only mirrors them.

import { $, STATES, postJson, refusal, t } from "./staff.js";
import { wireShortcuts } from "./console-keys.js";
import { reasonsChosen, wireDecisions } from "./console-decision.js";
import { updateScript } from "./console-script.js";
import { challengeMissing, challengeUpdate, resetChallenge, wireChallenge } from "./console-challenge.js";
import { resetMonitor, showMonitored, showWhisper } from "./console-monitor.js";
import { STILL_NAMES, addStill, wireZoom } from "./console-stills.js";

const root = document.getElementById("console");
const csrf = root.dataset.csrf;
const readOnly = root.dataset.readOnly === "true";
const offerTimeout = Number(root.dataset.offerTimeout) || 30;
const wrapUpSecs = Number(root.dataset.wrapUp) || 30;
const requiredStills = (root.dataset.requiredStills || "").split(",").filter(Boolean);
const NOBODY = t("No hay nadie esperando.", "Nobody is waiting.");

// The agent states in which each ending's notice still describes the situation.
const ENDED_KEEP = {
  offer_timeout: ["in_call", "break"],
  requeued: ["in_call", "wrap_up", "available"],
  citizen_left: ["in_call", "wrap_up", "available"],
  connection_lost: ["in_call", "available"],
  server_stopping: ["in_call", "available"],
};
const ENDED = {
  hang_up: t("Llamada terminada.", "Call ended."),
  approved: t("Registro aprobado: el ciudadano ha recibido su código de activación.", "Registration approved: the citizen has received the activation code."),
  rejected: t("Solicitud rechazada; el ciudadano ha sido informado del motivo.", "Application rejected; the citizen has been told why."),
  aborted: t("Llamada interrumpida: el ciudadano vuelve a estar el primero de la cola.", "Call aborted: the citizen is back at the head of the queue."),
  requeued: t("El ciudadano ha vuelto a la cola.", "The citizen is back in the queue."),
  offer_timeout: t("No aceptó a tiempo: el ciudadano ha vuelto a la cola y usted está en pausa.", "Not accepted in time: the citizen is back in the queue and you are on break."),
  citizen_left: t("El ciudadano se ha desconectado.", "The citizen disconnected."),
  connection_lost: t("Se perdió la conexión del ciudadano: vuelve a estar el primero de la cola.", "The citizen's connection was lost: they are back at the head of the queue."),
  server_stopping: t("La llamada terminó por una actualización del servicio: el ciudadano vuelve a estar el primero de la cola.", "The call ended for a service update: the citizen is back at the head of the queue."),
};

let ws = null;
let retry = 1000;
// Set by `reconnect` (the server stops): the next connection is expected, not a failure.
let moving = false;
let pc = null;
let localStream = null;
let call = null; // { ticket, started }
let state = { name: "offline", since: Date.now() };
let offeredAt = null;
let taken = new Set();

// The notice says what is true now: each one names the agent states in which it holds and
// goes when the agent leaves them (`null`: until another replaces it); a passing one (a
// still saved) also goes after `ms`.
let noticeKeep = null;
let noticeTimer = null;
const notice = (text, keep = [state.name], ms = 0) => {
  $("notice").textContent = text;
  noticeKeep = keep;
  clearTimeout(noticeTimer);
  if (ms) noticeTimer = setTimeout(() => { if ($("notice").textContent === text) notice("", null); }, ms);
};
const PASSING_MS = 8000;
const CONNECTION_LOST = t("Conexión perdida; reconectando…", "Connection lost; reconnecting…");
// The last message that asked something of videoreg (not media negotiation): sent again
// when the answer is `unavailable` (the database is briefly out of reach).
let lastAsked = null;
let retrying = false;
const UNAVAILABLE_RETRY_MS = 2000;
const send = (m) => {
  if (m.type !== "ice" && m.type !== "offer") lastAsked = m;
  return ws && ws.readyState === WebSocket.OPEN && ws.send(JSON.stringify(m));
};
// A refused request answers {"error": {"code", "message"}}; its message, or `fallback`.
const clock = (secs) => `${Math.floor(secs / 60)}:${String(Math.floor(secs % 60)).padStart(2, "0")}`;

function connect() {
  ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws/agent`);
  ws.onopen = () => {
    retry = 1000;
    root.dataset.connected = "true";
    if (moving || $("notice").textContent === CONNECTION_LOST) notice("", null);
    moving = false;
  };
  ws.onmessage = (e) => handle(JSON.parse(e.data)).catch((err) => notice(String(err)));
  ws.onclose = () => {
    root.dataset.connected = "false";
    controls();
    if (!moving) notice(CONNECTION_LOST, null);
    setTimeout(connect, retry);
    retry = Math.min(retry * 2, 10000);
  };
}

function setState(name, reason) {
  state = { name, since: Date.now() };
  const pill = $("state");
  pill.dataset.state = name;
  pill.textContent = STATES[name] + (reason ? ` (${reason})` : "");
  if (noticeKeep && !noticeKeep.includes(name)) notice("", null);
  controls();
}

/// Only the buttons that can apply now are enabled; "Next citizen" says why it cannot.
function controls() {
  if (readOnly) return;
  const connected = root.dataset.connected === "true";
  const name = connected ? state.name : "connecting";
  $("go-available").disabled = !["offline", "break", "wrap_up"].includes(name);
  $("go-break").disabled = !["offline", "available", "break", "wrap_up"].includes(name);
  $("go-offline").disabled = !["available", "break", "wrap_up"].includes(name);
  const why = {
    connecting: t("Conectando…", "Connecting…"),
    offline: t("Pulse Disponible para recibir ciudadanos.", "Press Available to receive citizens."),
    break: t("Pulse Disponible para recibir ciudadanos.", "Press Available to receive citizens."),
    in_call: t("Termine la llamada en curso primero.", "Finish the current call first."),
  }[name] || "";
  $("take-next").disabled = why !== "";
  $("take-next-why").textContent = why;
}

async function handle(m) {
  if (retrying && m.type !== "error") { retrying = false; notice(""); }
  switch (m.type) {
    case "state": setState(m.state, m.reason); break;
    case "queue":
      $("queue").textContent = t(`${m.waiting} en espera · mayor espera ${clock(m.longest_wait_secs)}`,
        `${m.waiting} waiting · longest wait ${clock(m.longest_wait_secs)}`);
      if (m.waiting > 0 && $("notice").textContent === NOBODY) notice("", null);
      break;
    case "queue_empty": notice(NOBODY); break;
    case "offered":
      offeredAt = Date.now();
      $("offer-info").textContent = t(`DNI/NIE ${m.id_number} · ha esperado ${clock(m.waited_secs)}`,
        `ID ${m.id_number} · waited ${clock(m.waited_secs)}`);
      $("offer").hidden = false;
      notice(t("Ciudadano asignado: acéptelo o devuélvalo a la cola.", "Citizen offered: accept or put them back in the queue."));
      if ($("auto-accept").checked) send({ type: "accept" });
      break;
    case "call_started":
      // Told again after reconnecting (a server update): a call whose media still flows
      // goes on as it is.
      if (pc && pc.connectionState === "connected") break;
      await startCall(m.ice_servers);
      break;
    case "reconnect":
      // This server stops; the next connection (another server) keeps the state and call.
      moving = true;
      retry = m.retry_after_ms + Math.floor(Math.random() * 500);
      notice(t("Actualizando el servicio; reconectando…", "Updating the service; reconnecting…"));
      break;
    case "answer": if (pc) await pc.setRemoteDescription(m.description); break;
    case "ice": if (pc) await pc.addIceCandidate(m.candidate).catch(() => {}); break;
    case "quality": showQuality(m.citizen); break;
    case "recording": showRecording(m); break;
    case "challenge": challengeUpdate(m); break;
    case "monitored": showMonitored(m); break;
    case "whisper": showWhisper(m); break;
    case "call_ended": endCall(m.reason); break;
    case "error":
      notice(m.message);
      if (m.code === "unavailable") {
        retrying = true;
        const again = lastAsked;
        setTimeout(() => { if (retrying && again) send(again); }, UNAVAILABLE_RETRY_MS);
      }
      break;
  }
}

async function startCall(iceServers) {
  notice("");
  $("offer").hidden = true;
  offeredAt = null;
  $("call").hidden = false;
  call = { ticket: null, started: Date.now() };
  try {
    localStream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
    $("local").srcObject = localStream;
  } catch (e) {
    notice(t("No se puede usar su cámara o micrófono: ", "Cannot use your camera or microphone: ") + e.name);
  }
  pc = new RTCPeerConnection({ iceServers });
  const remote = new MediaStream();
  $("remote").srcObject = remote;
  if (localStream) localStream.getTracks().forEach((tr) => pc.addTrack(tr, localStream));
  else ["audio", "video"].forEach((k) => pc.addTransceiver(k, { direction: "recvonly" }));
  pc.ontrack = (e) => remote.addTrack(e.track);
  pc.onicecandidate = (e) => e.candidate && send({ type: "ice", candidate: e.candidate.toJSON() });
  const offer = await pc.createOffer();
  await pc.setLocalDescription(offer);
  send({ type: "offer", description: { type: offer.type, sdp: offer.sdp } });
  await loadDetails();
}

// The recording indicator: "Recording" while all is well; a warning that stays on screen when
// the recording cannot hold all of the call (the call goes on; the decision records it).
function showRecording(m) {
  const pill = $("recording");
  pill.hidden = false;
  if (m.state === "trouble") {
    pill.dataset.state = "trouble";
    pill.textContent = t("⚠ Grabación incompleta", "⚠ Recording incomplete");
    notice(m.message || t("La grabación estará incompleta.", "The recording will be incomplete."));
  } else if (pill.dataset.state !== "trouble") {
    pill.dataset.state = "on";
    pill.textContent = t("● Grabando", "● Recording");
  }
}

function endCall(reason) {
  $("recording").hidden = true;
  delete $("recording").dataset.state;
  if (pc) pc.close();
  pc = null;
  if (localStream) localStream.getTracks().forEach((tr) => tr.stop());
  localStream = null;
  call = null;
  offeredAt = null;
  taken = new Set();
  $("call").hidden = true;
  $("offer").hidden = true;
  $("stills").replaceChildren();
  $("details").replaceChildren();
  $("checklist").reset();
  resetChallenge();
  resetMonitor();
  $("note").value = "";
  reasonsChosen(true);
  updateMissing();
  notice(ENDED[reason] || ENDED.hang_up, ENDED_KEEP[reason] || ["in_call", "wrap_up"]);
}

function row(dl, term, value) {
  const dt = document.createElement("dt");
  dt.textContent = term;
  const dd = document.createElement("dd");
  dd.textContent = value ?? "—";
  dl.append(dt, dd);
}

async function loadDetails() {
  const r = await fetch("/staff/console/call", { headers: { accept: "application/json" } });
  if (r.status === 503) {
    // The database is briefly out of reach: say so and ask again.
    const body = await r.json().catch(() => ({}));
    notice(refusal(body, t("Servicio no disponible; reintentando…", "Service unavailable; retrying…")));
    const secs = Number(body?.error?.retry_after_seconds || r.headers.get("retry-after") || 2);
    setTimeout(loadDetails, secs * 1000);
    return;
  }
  if (!r.ok) return;
  const d = await r.json();
  call.ticket = d.ticket;
  const dl = $("details");
  dl.replaceChildren();
  row(dl, t("DNI/NIE introducido", "ID number entered"), d.id_number);
  if (d.registry) {
    row(dl, t("Nombre (registro)", "Name (registry)"), d.registry.full_name);
    row(dl, t("Fecha de nacimiento", "Birth date"), d.registry.birth_date);
    row(dl, t("Validez", "Valid until"), d.registry.valid_until);
    row(dl, t("Expedición", "Issued on"), d.registry.issued_on);
    row(dl, t("Número de soporte", "Support number"), d.registry.support_number);
  }
  const tc = d.test_call;
  const b = tc && tc.browser;
  const verdicts = { good: t("buena", "good"), fair: t("regular", "fair"), poor: t("mala", "poor") };
  const paths = {
    udp: t("directa (UDP)", "direct (UDP)"), tcp: t("directa (TCP)", "direct (TCP)"),
    turn_udp: "TURN (UDP)", turn_tcp: "TURN (TCP)", turn_tls: "TURN (TLS)",
  };
  row(dl, t("Prueba de llamada", "Test call"), !tc ? t("sin datos", "no data")
    : (verdicts[tc.verdict] || tc.verdict) + (b
      ? ` · RTT ${b.rtt_ms ?? "—"} ms · ${t("pérdida", "loss")} ${b.loss_pct}% · jitter ${b.jitter_ms} ms · ${Math.round(b.kbps)} kbit/s`
      : ""));
  // The network path the citizen's test call took: a relay or TCP explains a poorer call.
  if (tc) row(dl, t("Camino de red", "Network path"), paths[tc.path] || t("no indicado", "not reported"));
  row(dl, t("Esperó", "Waited"), clock(d.waited_secs));
  if (d.already_registered) notice(t("Atención: este DNI/NIE ya tiene un registro.", "Warning: this ID number is already registered."));
  d.stills.forEach(stillAdded);
  resetChallenge(d.challenge_passed);
  updateMissing();
}

function stillAdded(s) {
  taken.add(s.kind);
  addStill(s);
  updateMissing();
}

async function capture(kind) {
  const video = $("remote");
  if (!call || !call.ticket) return;
  if (!video.videoWidth) {
    notice(t("Todavía no llega vídeo del ciudadano.", "No video from the citizen yet."));
    return;
  }
  const canvas = document.createElement("canvas");
  canvas.width = video.videoWidth;
  canvas.height = video.videoHeight;
  canvas.getContext("2d").drawImage(video, 0, 0);
  const blob = await new Promise((ok) => canvas.toBlob(ok, "image/png"));
  notice(t("Enviando imagen…", "Uploading still…"), ["in_call"]);
  const r = await fetch(`/staff/calls/${call.ticket}/stills/${kind}`, {
    method: "POST", body: blob,
    headers: { accept: "application/json", "content-type": "image/png", "x-csrf-token": csrf },
  });
  const body = await r.json().catch(() => ({}));
  if (r.status === 201) {
    stillAdded(body);
    notice(t(`Imagen capturada: ${STILL_NAMES[kind]}.`, `Still captured: ${STILL_NAMES[kind]}.`), ["in_call"], PASSING_MS);
  } else {
    notice(refusal(body, t("No se pudo guardar la imagen.", "The still could not be saved.")));
  }
}

function ticked() {
  return [...$("checklist").querySelectorAll("input[name=check]:checked")].map((i) => i.value);
}

function updateMissing() {
  const missing = [];
  $("checklist").querySelectorAll("input[data-required]").forEach((i) => {
    if (!i.checked) missing.push(i.parentElement.textContent.trim());
  });
  $("checklist").querySelectorAll("fieldset").forEach((f) => {
    const min = Number(f.dataset.min);
    const n = f.querySelectorAll("input:checked").length;
    if (min > n) missing.push(`${f.querySelector("legend").textContent} (${n}/${min})`);
  });
  requiredStills.filter((k) => !taken.has(k)).forEach((k) => missing.push(t("imagen: ", "still: ") + STILL_NAMES[k]));
  const check = challengeMissing();
  if (check) missing.push(check);
  updateScript(new Set(ticked()), taken);
  $("missing").textContent = missing.length ? t("Falta: ", "Missing: ") + missing.join("; ") : t("Todo listo para aprobar.", "Ready to approve.");
  $("approve").disabled = missing.length > 0;
}

async function decide(decision, reason) {
  if (!call || !call.ticket) return;
  const r = await postJson(`/staff/calls/${call.ticket}/decision`, csrf,
    { decision, checklist: ticked(), reason, note: $("note").value });
  const body = await r.json().catch(() => ({}));
  if (!r.ok) notice(refusal(body, t("No se pudo registrar la decisión.", "The decision could not be recorded.")));
}

/// Bytes received from the citizen, from getStats (kept on the video element for tests and
/// for people looking at the page with developer tools).
async function measure() {
  if (!pc) return;
  let bytes = 0;
  (await pc.getStats()).forEach((s) => { if (s.type === "inbound-rtp") bytes += s.bytesReceived || 0; });
  $("remote").dataset.bytesReceived = String(bytes);
}
setInterval(measure, 2000);

function showQuality(q) {
  const el = $("quality");
  const lossPct = q.packets ? (100 * q.lost) / (q.packets + q.lost) : 0;
  const level = !q.packets ? "unknown" : lossPct > 5 || (q.rtt_ms ?? 0) > 400 ? "poor" : lossPct > 1 || (q.rtt_ms ?? 0) > 150 ? "fair" : "good";
  el.dataset.quality = level;
  const names = { unknown: t("sin datos", "no data"), poor: t("mala", "poor"), fair: t("regular", "fair"), good: t("buena", "good") };
  // The citizen's path as the forwarder sees it: only worth words when it is not plain UDP.
  const via = { tcp: t("por TCP", "over TCP"), relay: t("por TURN", "via TURN") }[q.path];
  el.dataset.path = q.path || "";
  el.textContent = `${t("Calidad", "Quality")}: ${names[level]} · ${lossPct.toFixed(1)}%${q.rtt_ms != null ? ` · ${Math.round(q.rtt_ms)} ms` : ""}${via ? ` · ${via}` : ""}`;
}

function tick() {
  const now = Date.now();
  let since = clock((now - state.since) / 1000);
  if (state.name === "wrap_up") {
    since += t(` · disponible en ${Math.max(0, Math.ceil(wrapUpSecs - (now - state.since) / 1000))} s`,
      ` · available in ${Math.max(0, Math.ceil(wrapUpSecs - (now - state.since) / 1000))} s`);
  }
  $("state-time").textContent = since;
  if (call) $("timer").textContent = clock((now - call.started) / 1000);
  if (offeredAt) {
    const left = Math.max(0, Math.ceil(offerTimeout - (now - offeredAt) / 1000));
    $("accept").textContent = t(`Aceptar y empezar la llamada (${left} s)`, `Accept and start the call (${left} s)`);
  }
}

function wire() {
  // Zoom: the dialog opens fitted to the screen; a click shows full resolution and back.
  wireZoom();
  if (readOnly) return;
  $("go-available").onclick = () => send({ type: "set_state", state: "available" });
  $("go-break").onclick = () => send({ type: "set_state", state: "break", reason: $("break-reason").value });
  $("go-offline").onclick = () => send({ type: "set_state", state: "offline" });
  $("take-next").onclick = () => send({ type: "take_next" });
  $("accept").onclick = () => send({ type: "accept" });
  $("decline").onclick = () => send({ type: "requeue" });
  $("mute").onclick = () => {
    if (!localStream) return;
    const muted = $("mute").getAttribute("aria-pressed") !== "true";
    localStream.getAudioTracks().forEach((tr) => { tr.enabled = !muted; });
    $("mute").setAttribute("aria-pressed", String(muted));
    $("mute").textContent = muted ? t("Activar micrófono", "Unmute") : t("Silenciar", "Mute");
  };
  document.querySelectorAll("button.capture").forEach((b) => { b.onclick = () => capture(b.dataset.kind); });
  $("checklist").onchange = updateMissing;
  $("approve").onclick = () => decide("approve", null);
  wireDecisions(decide, send);
  wireChallenge(() => call, csrf, updateMissing);
  wireShortcuts();
  $("auto-accept").checked = localStorage.getItem("videoreg.autoAccept") === "1";
  $("auto-accept").onchange = () => localStorage.setItem("videoreg.autoAccept", $("auto-accept").checked ? "1" : "0");
}

wire();
connect();
setInterval(tick, 1000);
