// What the staff pages share: the page's language, the names of the agent states, and how
// their JSON calls are posted and their refusals read.

const es = document.documentElement.lang === "es";

export const $ = (id) => document.getElementById(id);
export const t = (esText, enText) => (es ? esText : enText);

export const STATES = {
  available: t("Disponible", "Available"),
  in_call: t("En llamada", "In a call"),
  wrap_up: t("Cierre de llamada", "Wrap-up"),
  break: t("En pausa", "On break"),
  offline: t("Desconectado", "Offline"),
};

/// POSTs to one of the staff's JSON routes, with the session's CSRF token in
/// `X-CSRF-Token` and `body` (if any) as JSON.
export const postJson = (path, csrf, body) => fetch(path, {
  method: "POST",
  headers: { accept: "application/json", "content-type": "application/json", "x-csrf-token": csrf },
  body: body === undefined ? undefined : JSON.stringify(body),
});

/// The server's message in a refusal's (parsed) body, or `fallback`.
export const refusal = (body, fallback) => body?.error?.message || fallback;
