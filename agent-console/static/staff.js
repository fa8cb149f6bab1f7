// What the staff pages share: the page's language, and the names of the agent states.

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
