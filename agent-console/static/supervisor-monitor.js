// Silent monitoring on the supervisors' dashboard: "Watch" on an agent in a call opens a
// receive-only connection to videoreg (two video and two audio tracks: the citizen's, then
// the agent's), nothing sent from this page. The page waits for its ICE candidates before
// offering, so one request carries the offer and one answer closes it. "Stop watching",
// leaving the page or the call's end closes it; a private hint goes to the agent's console.

import { $, postJson, refusal, t } from "./staff.js";

const root = document.getElementById("dashboard");
const csrf = root.dataset.csrf;
let watching = null; // { ticket, monitor, pc, agent }

const post = (path, body) => postJson(path, csrf, body);
const refused = async (r, fallback) => refusal(await r.json().catch(() => ({})), fallback);

function state(text, kind) {
  $("monitor-state").textContent = text;
  $("monitor-state").dataset.state = kind;
}

/// Gathers every candidate before the offer goes (a few hundred ms on one network).
function gathered(pc) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((done) => {
    const finish = () => { if (pc.iceGatheringState === "complete") done(); };
    pc.addEventListener("icegatheringstatechange", finish);
    setTimeout(done, 3000);
  });
}

export async function watch(ticket, agent) {
  if (watching) await stop();
  const pc = new RTCPeerConnection();
  for (const kind of ["video", "audio", "video", "audio"]) pc.addTransceiver(kind, { direction: "recvonly" });
  const videos = [$("monitor-citizen"), $("monitor-agent-video")];
  const streams = [new MediaStream(), new MediaStream()];
  videos.forEach((v, i) => { v.srcObject = streams[i]; });
  pc.ontrack = (e) => {
    // The order of the offer's transceivers: citizen's video and audio, then the agent's.
    const i = pc.getTransceivers().indexOf(e.transceiver);
    const side = i < 2 ? 0 : 1;
    streams[side].addTrack(e.track);
    // The stream was empty when given to the element: start it now that it has media.
    videos[side].play().catch(() => {});
  };
  pc.onconnectionstatechange = () => {
    const s = pc.connectionState;
    if (s === "connected") state(t("en directo", "live"), "live");
    else if (s === "failed" || s === "closed") state(t("la llamada terminó o se perdió la conexión", "the call ended or the connection was lost"), "ended");
  };
  watching = { ticket, monitor: null, pc, agent };
  $("monitor-agent").textContent = agent;
  $("monitor").hidden = false;
  $("whisper-status").textContent = "";
  state(t("conectando…", "connecting…"), "connecting");
  await pc.setLocalDescription(await pc.createOffer());
  await gathered(pc);
  const r = await post(`/supervisor/calls/${ticket}/monitor`, { offer: { type: "offer", sdp: pc.localDescription.sdp } });
  if (r.status !== 201) {
    state(await refused(r, t("No se pudo ver la llamada.", "The call could not be watched.")), "ended");
    pc.close();
    watching = null;
    return;
  }
  const body = await r.json();
  if (!watching || watching.pc !== pc) return;
  watching.monitor = body.monitor;
  await pc.setRemoteDescription(body.answer);
}

export async function stop() {
  if (!watching) return;
  const { ticket, monitor, pc } = watching;
  watching = null;
  pc.close();
  $("monitor").hidden = true;
  if (monitor != null) await post(`/supervisor/calls/${ticket}/monitor/${monitor}/stop`).catch(() => {});
}

/// Ends watching when the agent is no longer in that call.
export function callsNow(agents) {
  if (watching && !agents.some((a) => a.ticket === watching.ticket)) stop();
}

$("monitor-stop").onclick = () => stop();
$("monitor-sound").onclick = () => {
  const on = $("monitor-sound").getAttribute("aria-pressed") !== "true";
  ["monitor-citizen", "monitor-agent-video"].forEach((id) => { $(id).muted = !on; });
  $("monitor-sound").setAttribute("aria-pressed", String(on));
  $("monitor-sound").textContent = on ? t("Silenciar", "Mute") : t("Activar sonido", "Turn sound on");
};
$("whisper").addEventListener("submit", async (e) => {
  e.preventDefault();
  const text = $("whisper-text").value.trim();
  if (!watching || !text) return;
  const r = await post(`/supervisor/calls/${watching.ticket}/whisper`, { text });
  $("whisper-status").textContent = r.ok
    ? t(`Enviado a ${watching.agent}.`, `Sent to ${watching.agent}.`)
    : await refused(r, t("No se pudo enviar.", "It could not be sent."));
  if (r.ok) $("whisper-text").value = "";
});
// Leaving the page closes the connection (its DTLS close reaches videoreg, which drops the
// monitor and audits its end; without it, ICE gives up on a silent monitor within 30 s).
window.addEventListener("pagehide", () => { if (watching) watching.pc.close(); });
