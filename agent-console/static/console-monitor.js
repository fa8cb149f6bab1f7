// What the agent is told about supervisors: "supervisor watching" while one monitors the call
// (the service may turn the notice off), and a supervisor's private hints, kept on screen
// until the call ends.

import { $, t } from "./staff.js";

/// The `monitored` message: how many supervisors watch now.
export function showMonitored(m) {
  const pill = $("watched");
  pill.hidden = m.watching === 0;
  pill.textContent = m.watching > 1
    ? t(`◉ ${m.watching} supervisores mirando`, `◉ ${m.watching} supervisors watching`)
    : t("◉ Supervisor mirando", "◉ Supervisor watching");
}

/// The `whisper` message: a hint from a supervisor, newest first.
export function showWhisper(m) {
  const list = $("whispers");
  const li = document.createElement("li");
  const at = new Date().toLocaleTimeString(document.documentElement.lang, { hour: "2-digit", minute: "2-digit", hour12: false });
  li.textContent = `${at} · ${m.from}: ${m.text}`;
  list.prepend(li);
  list.hidden = false;
}

/// A new call, or none: no watchers, no hints.
export function resetMonitor() {
  $("watched").hidden = true;
  $("whispers").replaceChildren();
  $("whispers").hidden = true;
}
