// Dates and times in Madrid and in the visitor's own zone, one format per language (the
// server's): "jueves, 26 de noviembre, 09:00" and "Thursday, 26 November, 09:00", on a 24-hour
// clock; with `year`, the year after the month. `texts` gives the "Madrid time" and "your
// time" labels.

export const MADRID = "Europe/Madrid";

export function timeFormat(lang, texts, { year = false } = {}) {
  const locale = lang === "en" ? "en-GB" : "es-ES";
  const day = (d, timeZone) => d.toLocaleDateString(locale, year
    ? { weekday: "long", day: "numeric", month: "long", year: "numeric", timeZone }
    : { weekday: "long", day: "numeric", month: "long", timeZone });
  const clock = (d, timeZone, seconds = false) => {
    const opts = { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone };
    return d.toLocaleTimeString(locale, seconds ? { ...opts, second: "2-digit" } : opts);
  };
  const dateTime = (d, timeZone) => `${day(d, timeZone)}, ${clock(d, timeZone)}`;
  /// In Madrid time, and also in the visitor's own when it differs.
  const madridAndLocal = (iso) => {
    const d = new Date(iso);
    const madrid = `${dateTime(d, MADRID)} (${texts.madrid_time})`;
    const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    return zone === MADRID ? madrid : `${madrid}; ${dateTime(d, zone)} (${texts.your_time})`;
  };
  return { locale, day, clock, dateTime, madridAndLocal };
}
