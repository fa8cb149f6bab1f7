// The test call: camera and microphone preview, then an echo through videoreg's server,
// measured with getStats() and judged good / fair / poor. The thresholds live here, in one
// place, and are documented in docs/test-call.md. The page also says which network path the
// media took (UDP or TCP straight to videoreg, or a TURN relay) and, when none works, what to
// try instead.
import { pathOf } from "/static/network-path.js";

export const THRESHOLDS = {
  good: { rttMs: 150, lossPct: 2, jitterMs: 30, kbps: 300 },
  fair: { rttMs: 400, lossPct: 8, jitterMs: 80, kbps: 100 },
};
const MEASURE_SECONDS = 10;
const NO_MEDIA_SECONDS = 15;

const texts = JSON.parse(document.getElementById("texts").textContent);
const $ = (id) => document.getElementById(id);
const say = (key, vars = {}) => {
  let text = texts[key] || key;
  for (const [k, v] of Object.entries(vars)) text = text.replace(`{${k}}`, v);
  $("message").textContent = text;
  $("message").dataset.key = key;
};

/// Bytes as a person reads them: `850 kB`, `1,2 MB` (decimal units, the page's language).
export function humanBytes(bytes, lang) {
  const number = (n, digits) => new Intl.NumberFormat(lang, { maximumFractionDigits: digits }).format(n);
  if (bytes >= 1e6) return `${number(bytes / 1e6, 1)} MB`;
  return `${number(Math.round(bytes / 1e3), 0)} kB`;
}

/// The measurement's progress bar and its words: `elapsed` of MEASURE_SECONDS.
function showProgress(elapsed) {
  const done = Math.min(MEASURE_SECONDS, Math.max(0, elapsed));
  $("measuring").hidden = false;
  $("measure-progress").value = done;
  const left = Math.ceil(MEASURE_SECONDS - done);
  $("measure-label").textContent = texts.seconds_left.replace("{s}", Math.max(1, left));
}

export function verdict({ rttMs, lossPct, jitterMs, kbps }) {
  const within = (t) => rttMs <= t.rttMs && lossPct <= t.lossPct && jitterMs <= t.jitterMs && kbps >= t.kbps;
  if (within(THRESHOLDS.good)) return "good";
  if (within(THRESHOLDS.fair)) return "fair";
  return "poor";
}

let stream = null;

async function openDevices() {
  const camera = $("camera").value, microphone = $("microphone").value;
  if (stream) stream.getTracks().forEach((t) => t.stop());
  stream = await navigator.mediaDevices.getUserMedia({
    video: camera ? { deviceId: { exact: camera } } : true,
    audio: microphone ? { deviceId: { exact: microphone } } : true,
  });
  $("preview").srcObject = stream;
  meter(stream);
}

function meter(s) {
  const Ctx = window.AudioContext || window.webkitAudioContext;
  if (!Ctx || !s.getAudioTracks().length) return;
  const ctx = new Ctx();
  const analyser = ctx.createAnalyser();
  analyser.fftSize = 512;
  ctx.createMediaStreamSource(s).connect(analyser);
  const data = new Uint8Array(analyser.fftSize);
  const draw = () => {
    analyser.getByteTimeDomainData(data);
    let peak = 0;
    for (const v of data) peak = Math.max(peak, Math.abs(v - 128));
    const pct = Math.round(Math.min(100, (peak / 128) * 200));
    $("level").style.width = `${pct}%`;
    $("level").parentElement.setAttribute("aria-valuenow", String(pct));
    requestAnimationFrame(draw);
  };
  draw();
}

async function listDevices() {
  const devices = await navigator.mediaDevices.enumerateDevices();
  for (const [select, kind] of [[$("camera"), "videoinput"], [$("microphone"), "audioinput"]]) {
    select.replaceChildren();
    devices.filter((d) => d.kind === kind).forEach((d, i) => {
      const o = document.createElement("option");
      o.value = d.deviceId;
      o.textContent = d.label || `${kind === "videoinput" ? "📷" : "🎤"} ${i + 1}`;
      select.append(o);
    });
  }
}

function errorKey(e) {
  switch (e && e.name) {
    case "NotAllowedError": case "SecurityError": return "denied";
    case "NotFoundError": case "OverconstrainedError": return "no_device";
    case "NotReadableError": case "AbortError": return "busy_device";
    default: return "no_device";
  }
}

function runTest() {
  $("start").disabled = true;
  say("connecting");
  const ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws/citizen`);
  const send = (m) => ws.readyState === WebSocket.OPEN && ws.send(JSON.stringify(m));
  let pc = null, finished = false, started = 0, lastBytes = 0, lastAt = 0;
  let timer = null, connectMs = null, path = null;
  const finish = () => {
    if (finished) return;
    finished = true;
    clearInterval(timer);
    send({ type: "echo_stop" });
    if (pc) pc.close();
  };
  ws.onopen = () => send({ type: "echo_start" });
  window.addEventListener("pagehide", finish);
  ws.onclose = () => { if (!finished) { say("socket"); finish(); $("start").disabled = false; } };
  // No path at all (every candidate pair failed, or none answered in time): what to try.
  const noPath = () => {
    finish();
    say("no_path");
    $("advice").hidden = false;
    $("measuring").hidden = true;
    $("start").disabled = false;
  };
  ws.onmessage = async (event) => {
    const m = JSON.parse(event.data);
    if (m.type === "echo_busy") {
      say("server_busy", { s: m.retry_after_secs });
      setTimeout(() => send({ type: "echo_start" }), m.retry_after_secs * 1000);
    } else if (m.type === "echo_ready") {
      pc = new RTCPeerConnection({ iceServers: m.ice_servers });
      stream.getTracks().forEach((t) => pc.addTrack(t, stream));
      pc.onicecandidate = (e) => e.candidate && send({ type: "ice", candidate: e.candidate.toJSON() });
      pc.ontrack = (e) => { $("returned").srcObject = e.streams[0] || new MediaStream([e.track]); };
      pc.onconnectionstatechange = () => {
        if (pc.connectionState === "connected" && connectMs === null) connectMs = Date.now() - started;
        if (pc.connectionState === "failed" && connectMs === null && !finished) noPath();
      };
      $("advice").hidden = true;
      started = Date.now();
      const offer = await pc.createOffer();
      await pc.setLocalDescription(offer);
      send({ type: "offer", description: { type: offer.type, sdp: offer.sdp } });
      timer = setInterval(measure, 1000);
    } else if (m.type === "answer") {
      await pc.setRemoteDescription(m.description);
    } else if (m.type === "ice") {
      await pc.addIceCandidate(m.candidate).catch(() => {});
    } else if (m.type === "test_passed") {
      // Continue appears once the server has kept the result: the application needs it.
      sessionStorage.setItem("videoreg.test_call", m.test_token);
      // Come from the appointment page: back there to check in.
      if (sessionStorage.getItem("videoreg.after_test") === "/cita") $("continue").href = `/cita?lang=${document.documentElement.lang}`;
      $("continue").hidden = false;
      $("continue").removeAttribute("aria-disabled");
    } else if (m.type === "echo_ended") {
      if (!finished) finish();
      ws.close();
    }
  };

  async function measure() {
    const stats = await pc.getStats();
    let rtt = null, bytes = 0, lost = 0, received = 0, jitter = 0;
    stats.forEach((s) => {
      if (s.type === "candidate-pair" && s.nominated && s.currentRoundTripTime !== undefined) rtt = s.currentRoundTripTime * 1000;
      if (s.type === "inbound-rtp") {
        bytes += s.bytesReceived || 0;
        lost += Math.max(0, s.packetsLost || 0);
        received += s.packetsReceived || 0;
        jitter = Math.max(jitter, (s.jitter || 0) * 1000);
      }
    });
    const now = Date.now();
    const kbps = lastAt ? ((bytes - lastBytes) * 8) / (now - lastAt) : 0;
    lastBytes = bytes; lastAt = now;
    const lossPct = received + lost ? (lost * 100) / (received + lost) : 0;
    path = pathOf(stats) || path;
    $("results").hidden = false;
    if (path) {
      $("path").dataset.path = path;
      $("path").textContent = texts[`path_${path}`] + (connectMs === null ? "" : ` · ${texts.connected_in.replace("{ms}", connectMs)}`);
    }
    $("bytes").textContent = humanBytes(bytes, document.documentElement.lang);
    $("bytes").dataset.bytes = String(bytes);
    $("rtt").textContent = rtt === null ? "—" : `${Math.round(rtt)} ms`;
    $("loss").textContent = `${new Intl.NumberFormat(document.documentElement.lang, { minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(lossPct)} %`;
    $("jitter").textContent = `${Math.round(jitter)} ms`;
    $("bitrate").textContent = `${Math.round(kbps)} kbit/s`;
    const elapsed = (now - started) / 1000;
    if (bytes > 0) {
      if (!$("verdict").dataset.verdict) {
        say("measuring");
        showProgress((now - started) / 1000);
      }
    } else if (elapsed > NO_MEDIA_SECONDS) {
      if (connectMs === null) { noPath(); return; }
      say("no_media");
      finish();
      $("start").disabled = false;
      $("measuring").hidden = true;
      return;
    }
    if (bytes > 0 && elapsed >= MEASURE_SECONDS) {
      const v = verdict({ rttMs: rtt ?? 0, lossPct, jitterMs: jitter, kbps });
      // The verdict is shown once; the picture keeps coming back (and the numbers keep
      // updating) until the citizen moves on or the server's time limit ends the test.
      if (!$("verdict").dataset.verdict) {
        $("verdict").dataset.verdict = v;
        $("verdict").textContent = texts[v];
        // Measured: the verdict and Continue take the place of the button and its progress.
        $("measuring").hidden = true;
        $("start").hidden = true;
        say("done");
        // The server keeps the result (with its own measurements) under a token that the
        // application presents.
        send({ type: "echo_result", verdict: v, rtt_ms: rtt, loss_pct: lossPct, jitter_ms: jitter, kbps, path, connect_ms: connectMs });
      }
    }
  }
}

async function main() {
  if (!window.RTCPeerConnection || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    say("unsupported");
    return;
  }
  try {
    await openDevices();
    await listDevices();
    say("ready");
    $("start").disabled = false;
  } catch (e) {
    say(errorKey(e));
  }
  $("camera").onchange = $("microphone").onchange = () => openDevices().catch((e) => say(errorKey(e)));
  $("start").onclick = runTest;
}

main();
