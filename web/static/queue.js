// The citizen's queue, call and result, on one page: consent, then join (or resume after a
// closed tab), position and estimate updated live with a progress bar, a sound and a title
// change when the agent answers, the call itself (media through videoreg, mute, camera
// switch, hang-up, quality, ICE restart on a network change), and the outcome. An approval's
// code is kept in the tab (result.js) so that Back and reload show it again.

import { loadResult, renderCode, saveResult } from "/static/result.js";
import { offerSlots, withApplication } from "/static/slots.js";
import { MADRID, timeFormat } from "/static/when.js";
import { pathOf } from "/static/network-path.js";

const $ = (id) => document.getElementById(id);
const texts = JSON.parse($("texts").textContent);
const reasons = JSON.parse($("reasons").textContent);
const lang = $("flow").dataset.lang;
// One date and time format per language, the server's (when.js).
const when = timeFormat(lang, texts);
const { locale, clock, madridAndLocal } = when;
// The place survives a closed tab: the resume token (and what the receipt needs) is kept in
// localStorage until the outcome, then removed. The application token lives in the tab.
const store = {
  getItem: (k) => localStorage.getItem(k) ?? sessionStorage.getItem(k),
  setItem: (k, v) => localStorage.setItem(k, v),
  removeItem: (k) => { localStorage.removeItem(k); sessionStorage.removeItem(k); },
};
const SECTIONS = ["consent-step", "waiting", "call", "approved", "rejected", "ended"];

let ws = null;
let pc = null;
let localStream = null;
let audio = null;
let reconnectDelay = 1000;
let finished = false;
let statsTimer = null;
let lastPosition = null;
const originalTitle = document.title;
// Booked from the queue: the place is given up (`leave`), then the booking page opens.
let leavingForBooking = false;
let offered = false;

/// Offers appointment slots (once) with `text` saying why, booked with `application`.
function offerBooking(text, application) {
  if (offered || !application) return;
  offered = true;
  $("booking-offer-text").textContent = text;
  $("booking-offer").hidden = false;
  const bookingProblem = (t) => { $("booking-problem").textContent = t; $("booking-problem").hidden = !t; };
  offerSlots($("slots"), {
    texts, when, bookSlot: withApplication(application),
    onProblem: bookingProblem,
    onBooked: () => {
      announce(texts.booked);
      if (ws && ws.readyState === WebSocket.OPEN && !finished) { leavingForBooking = true; send({ type: "leave" }); }
      else location.assign(`/cita?lang=${lang}`);
    },
  });
}
function hideBooking() { $("booking-offer").hidden = true; }

function show(id) {
  SECTIONS.forEach((s) => { $(s).hidden = s !== id; });
  const step = id === "call" ? "step-call" : id === "approved" ? "step-done" : "step-queue";
  ["step-queue", "step-call", "step-done"].forEach((s) => {
    if (s === step) $(s).setAttribute("aria-current", "step");
    else $(s).removeAttribute("aria-current");
  });
}
const announce = (text) => { $("announce").textContent = text; };
function problem(text) {
  $("problem").textContent = text;
  $("problem").hidden = !text;
}
// The last message that asked something of videoreg (not media negotiation): sent again
// when the answer is `unavailable` (the database is briefly out of reach).
let lastAsked = null;
let retrying = false;
const UNAVAILABLE_RETRY_MS = 2000;
const send = (m) => {
  if (m.type !== "ice" && m.type !== "offer") lastAsked = m;
  return ws && ws.readyState === WebSocket.OPEN && ws.send(JSON.stringify(m));
};

function minutes(secs) {
  return Math.max(1, Math.ceil(secs / 60));
}
function estimateText(m) {
  if (m.estimate_secs == null) return texts.no_estimate;
  if (m.estimate_low_secs != null && m.estimate_high_secs != null) {
    const low = Math.floor(m.estimate_low_secs / 60);
    return `${low}–${Math.max(low + 1, minutes(m.estimate_high_secs))} min`;
  }
  if (m.estimate_secs < 60) return texts.under_a_minute;
  return texts.about_minutes.replace("{n}", minutes(m.estimate_secs));
}
function showPosition(m) {
  show("waiting");
  $("position").textContent = m.position;
  $("estimate").textContent = estimateText(m);
  // From the place at joining (0 %) to being called (100 %): each place moved up is one
  // step of `first`, the last one being called.
  const first = Math.max(Number(store.getItem("videoreg.first_position") || m.position), m.position, 1);
  const ahead = Math.max(0, m.position - 1);
  progress(Math.round((100 * (first - m.position)) / first),
    ahead ? texts.progress_text.replace("{a}", ahead).replace("{b}", first - 1) : texts.progress_next);
  $("updated").textContent = texts.updated_at.replace("{t}", clock(new Date(), MADRID, true));
  if (lastPosition !== m.position) announce(texts.position_now.replace("{n}", m.position).replace("{w}", estimateText(m)));
  lastPosition = m.position;
  document.title = `(${m.position}) ${originalTitle}`;
}

function progress(pct, text) {
  $("progress").style.width = `${pct}%`;
  $("progressbar").setAttribute("aria-valuenow", String(pct));
  $("progressbar").setAttribute("aria-valuetext", text);
  $("progress-text").textContent = text;
}

function beep() {
  try {
    audio = audio || new AudioContext();
    [0, 0.35, 0.7].forEach((at) => {
      const o = audio.createOscillator();
      const g = audio.createGain();
      o.frequency.value = 880;
      g.gain.setValueAtTime(0.2, audio.currentTime + at);
      g.gain.setValueAtTime(0, audio.currentTime + at + 0.2);
      o.connect(g).connect(audio.destination);
      o.start(audio.currentTime + at);
      o.stop(audio.currentTime + at + 0.25);
    });
  } catch { /* no sound available: the title and the page still change */ }
}

// The live-person check: the code and the action large, a countdown, and a box for the
// code when typing is allowed. The server checks a typed code; a spoken one the agent hears.
let challenge = null;
let challengeTimer = null;
function hideChallenge() {
  clearInterval(challengeTimer);
  challenge = null;
  $("challenge").hidden = true;
}
function showChallenge(m) {
  clearInterval(challengeTimer);
  challenge = m.challenge;
  $("challenge-action").textContent = lang === "en" ? m.action_en : m.action_es;
  $("challenge-code").textContent = m.code;
  $("challenge-say").hidden = !m.spoken;
  $("challenge-type-label").textContent = m.spoken ? texts.challenge_or_type : texts.challenge_type;
  $("challenge-form").hidden = !m.typed;
  $("challenge-input").value = "";
  $("challenge-input").disabled = false;
  const until = Date.now() + m.expires_in_secs * 1000;
  const tick = () => {
    const left = Math.max(0, Math.ceil((until - Date.now()) / 1000));
    $("challenge-status").textContent = left > 0 ? texts.challenge_seconds.replace("{n}", left) : texts.challenge_expired;
    if (left === 0) { clearInterval(challengeTimer); $("challenge-input").disabled = true; }
  };
  tick();
  challengeTimer = setInterval(tick, 1000);
  $("challenge").hidden = false;
  announce(`${$("challenge-action").textContent}. ${m.code}`);
  send({ type: "challenge_shown", challenge: m.challenge });
  if (m.typed) $("challenge-input").focus();
}
function challengeResult(m) {
  if (m.challenge !== challenge) return;
  const say = (t) => { $("challenge-status").textContent = t; announce(t); };
  switch (m.result) {
    case "passed":
      clearInterval(challengeTimer);
      $("challenge-form").hidden = true;
      say(texts.challenge_passed);
      setTimeout(() => { if (challenge === m.challenge) hideChallenge(); }, 4000);
      break;
    case "wrong_code":
      say(texts.challenge_wrong.replace("{n}", m.attempts_left));
      $("challenge-input").select();
      break;
    default:
      clearInterval(challengeTimer);
      $("challenge-form").hidden = true;
      say(texts["challenge_" + m.result] || texts.challenge_used);
  }
}
$("challenge-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const code = $("challenge-input").value.trim();
  if (challenge && code) send({ type: "challenge_answer", challenge, code });
});

function stopMedia() {
  hideChallenge();
  clearInterval(statsTimer);
  $("recording").hidden = true;
  if (pc) pc.close();
  pc = null;
  if (localStream) localStream.getTracks().forEach((t) => t.stop());
  localStream = null;
}

async function startCall(iceServers) {
  show("call");
  $("call-title").textContent = texts.connecting;
  try {
    localStream = await navigator.mediaDevices.getUserMedia({ audio: true, video: { facingMode: "user", width: { ideal: 1280 }, height: { ideal: 720 } } });
  } catch (e) {
    problem(texts.camera_problem.replace("{e}", e.name));
    return;
  }
  $("local").srcObject = localStream;
  pc = new RTCPeerConnection({ iceServers });
  const remote = new MediaStream();
  $("remote").srcObject = remote;
  localStream.getTracks().forEach((t) => pc.addTrack(t, localStream));
  pc.ontrack = (e) => { remote.addTrack(e.track); $("call-title").textContent = texts.in_call; };
  pc.onicecandidate = (e) => e.candidate && send({ type: "ice", candidate: e.candidate.toJSON() });
  pc.onnegotiationneeded = async () => {
    if (!pc) return;
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    send({ type: "offer", description: { type: offer.type, sdp: offer.sdp } });
  };
  pc.oniceconnectionstatechange = () => {
    if (!pc) return;
    if (pc.iceConnectionState === "failed" || pc.iceConnectionState === "disconnected") {
      announce(texts.reconnecting_media);
      pc.restartIce();
    }
  };
  statsTimer = setInterval(measure, 2000);
}

// For people diagnosing a call from the browser's console, and for the browser test: restart
// ICE by hand (what a network change does by itself), read the current ICE user fragment and
// the network path the call's media takes (`udp`, `tcp`, `turn_udp`, `turn_tcp`, `turn_tls`).
window.videoregCall = {
  restartIce: () => { if (pc) pc.restartIce(); },
  path: async () => (pc ? pathOf(await pc.getStats()) : null),
  iceUfrag: () => ((pc && pc.localDescription && pc.localDescription.sdp.match(/a=ice-ufrag:(\S+)/)) || [])[1] || null,
};

async function measure() {
  if (!pc) return;
  const stats = await pc.getStats();
  let bytes = 0; let lost = 0; let packets = 0; let rtt = null;
  stats.forEach((s) => {
    if (s.type === "inbound-rtp") { bytes += s.bytesReceived || 0; lost += s.packetsLost || 0; packets += s.packetsReceived || 0; }
    if (s.type === "candidate-pair" && s.nominated && s.currentRoundTripTime != null) rtt = s.currentRoundTripTime * 1000;
  });
  $("remote").dataset.bytesReceived = String(bytes);
  const lossPct = packets + lost > 0 ? (100 * lost) / (packets + lost) : 0;
  const level = !packets ? "unknown" : lossPct > 5 || (rtt ?? 0) > 400 ? "poor" : lossPct > 1 || (rtt ?? 0) > 150 ? "fair" : "good";
  $("quality").dataset.quality = level;
  $("quality").textContent = `${texts.connection}: ${texts[level]}${rtt != null ? ` · ${Math.round(rtt)} ms` : ""}`;
}

async function switchCamera() {
  if (!pc || !localStream) return;
  const cams = (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === "videoinput");
  const current = localStream.getVideoTracks()[0];
  const currentId = current && current.getSettings().deviceId;
  if (cams.length < 2) { announce(texts.one_camera); return; }
  const next = cams[(cams.findIndex((c) => c.deviceId === currentId) + 1) % cams.length];
  const stream = await navigator.mediaDevices.getUserMedia({ video: { deviceId: { exact: next.deviceId } } });
  const track = stream.getVideoTracks()[0];
  const sender = pc.getSenders().find((s) => s.track && s.track.kind === "video");
  if (sender) await sender.replaceTrack(track);
  if (current) { localStream.removeTrack(current); current.stop(); }
  localStream.addTrack(track);
  announce(texts.camera_switched);
}

function finish(section) {
  finished = true;
  stopMedia();
  store.removeItem("videoreg.resume");
  store.removeItem("videoreg.application");
  store.removeItem("videoreg.first_position");
  if (section !== "approved") store.removeItem("videoreg.id_number");
  document.title = originalTitle;
  show(section);
}

/// The result page, from the approval just received or from the tab's kept result.
function showApproved(result) {
  renderCode($("code"), result.code);
  $("code").dataset.registration = result.registration;
  $("expires").textContent = new Date(result.expires_at).toLocaleDateString(locale, { day: "numeric", month: "long", year: "numeric", timeZone: MADRID });
  $("receipt-code").value = result.code;
  $("receipt-id").value = result.id_number;
  finish("approved");
}

function ended(title, text) {
  $("ended-title").textContent = title;
  $("ended-text").textContent = text;
  finish("ended");
}

async function handle(m) {
  if (retrying && m.type !== "error") { retrying = false; problem(""); }
  switch (m.type) {
    case "queued":
      problem("");
      store.setItem("videoreg.resume", m.resume_token);
      if (sessionStorage.getItem("videoreg.id_number")) store.setItem("videoreg.id_number", sessionStorage.getItem("videoreg.id_number"));
      if (!store.getItem("videoreg.first_position")) store.setItem("videoreg.first_position", String(m.position));
      $("grace").textContent = m.grace_secs;
      showPosition(m);
      if (m.offer_booking) offerBooking(texts.offer_long_wait, store.getItem("videoreg.application"));
      break;
    case "appointment": {
      const at = clock(new Date(m.slot), MADRID);
      const text = (m.kept ? texts.appointment_kept : texts.appointment_late).replace("{t}", at);
      $("appointment-note").textContent = m.kept ? text : "";
      $("appointment-note").hidden = !m.kept;
      problem(m.kept ? "" : text);
      announce(text);
      break;
    }
    case "position": showPosition(m); break;
    case "agent_found":
      hideBooking();
      progress(100, texts.called);
      document.title = texts.title_answered;
      beep();
      announce(texts.agent_found);
      show("call");
      $("call-title").textContent = texts.connecting;
      break;
    case "call_started":
      // Told again after reconnecting (a server update): a call whose media still flows
      // goes on as it is.
      if (pc && pc.connectionState === "connected") { show("call"); break; }
      await startCall(m.ice_servers);
      break;
    case "reconnect":
      // This server stops; the next connection (another server) resumes the place.
      reconnectDelay = m.retry_after_ms + Math.floor(Math.random() * 500);
      announce(texts.server_moving);
      break;
    case "answer": if (pc) await pc.setRemoteDescription(m.description); break;
    case "ice": if (pc) await pc.addIceCandidate(m.candidate).catch(() => {}); break;
    case "recording": $("recording").hidden = false; break;
    case "challenge": showChallenge(m); break;
    case "challenge_result": challengeResult(m); break;
    case "requeued":
      stopMedia();
      store.setItem("videoreg.first_position", String(m.position));
      showPosition({ position: m.position, estimate_secs: null });
      announce(m.reason ? texts.aborted : texts.requeued);
      problem(m.reason ? texts.aborted : texts.requeued);
      break;
    case "approved": {
      const result = {
        code: m.activation_code,
        registration: m.registration,
        expires_at: m.code_expires_at,
        id_number: store.getItem("videoreg.id_number") || "",
      };
      saveResult(result);
      showApproved(result);
      store.removeItem("videoreg.id_number");
      announce(texts.approved);
      break;
    }
    case "rejected":
      $("reject-message").textContent = (lang === "es" ? m.message_es : m.message_en) || reasons[m.reason] || "";
      finish("rejected");
      break;
    case "call_ended": ended(texts.call_ended_title, texts.call_ended); break;
    case "left":
      if (leavingForBooking) { finished = true; location.assign(`/cita?lang=${lang}`); break; }
      ended(texts.left_title, texts.left);
      break;
    case "refused": {
      // Kept for the booking: the end of the page forgets it.
      const application = store.getItem("videoreg.application");
      const when = m.next_opening ? madridAndLocal(m.next_opening) : texts.no_opening;
      ended(m.reason === "closed" ? texts.closed_title : texts.too_late_title,
        (m.reason === "closed" ? texts.closed : texts.too_late).replace("{when}", when));
      offerBooking(texts.offer_refused, application);
      break;
    }
    case "error":
      if (m.code === "resume_expired") {
        store.removeItem("videoreg.resume");
        if (store.getItem("videoreg.application")) { problem(texts.resume_expired); show("consent-step"); } else ended(texts.resume_title, texts.resume_expired);
      } else if (m.code === "unavailable") {
        problem(m.message);
        retrying = true;
        const again = lastAsked;
        setTimeout(() => { if (retrying && again) send(again); }, UNAVAILABLE_RETRY_MS);
      } else if (m.code === "not_verified") {
        ended(texts.expired_title, texts.application_expired);
      } else {
        problem(m.message);
      }
      break;
  }
}

function connect() {
  ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws/citizen`);
  ws.onopen = () => {
    reconnectDelay = 1000;
    const resume = store.getItem("videoreg.resume");
    if (resume) send({ type: "resume", resume_token: resume });
  };
  ws.onmessage = (e) => handle(JSON.parse(e.data)).catch((err) => problem(String(err)));
  ws.onclose = () => {
    if (finished) return;
    if (store.getItem("videoreg.resume")) {
      announce(texts.reconnecting);
      setTimeout(connect, reconnectDelay);
      reconnectDelay = Math.min(reconnectDelay * 2, 10000);
    }
  };
}

$("consent-form").addEventListener("submit", (e) => {
  e.preventDefault();
  if (!$("consent").checked) { problem(texts.consent_needed); $("consent").focus(); return; }
  audio = audio || new AudioContext();
  send({ type: "join", application: store.getItem("videoreg.application"), consent: true });
});
$("leave").addEventListener("click", () => send({ type: "leave" }));
$("hang-up").addEventListener("click", () => send({ type: "hang_up" }));
$("switch-camera").addEventListener("click", () => switchCamera().catch((e) => problem(String(e))));
$("mute").addEventListener("click", () => {
  if (!localStream) return;
  const muted = $("mute").getAttribute("aria-pressed") !== "true";
  localStream.getAudioTracks().forEach((t) => { t.enabled = !muted; });
  $("mute").setAttribute("aria-pressed", String(muted));
  $("mute").textContent = muted ? texts.unmute : texts.mute;
});
$("copy").addEventListener("click", async () => {
  try { await navigator.clipboard.writeText($("code").textContent); announce(texts.copied); } catch { announce(texts.copy_failed); }
});

if (!window.RTCPeerConnection || !navigator.mediaDevices) {
  problem(texts.unsupported);
} else if (store.getItem("videoreg.resume")) {
  connect();
} else if (store.getItem("videoreg.application")) {
  show("consent-step");
  connect();
} else if (loadResult()) {
  showApproved(loadResult());
} else {
  ended(texts.start_title, texts.start_first);
}
