// Shows service times in the visitor's own time zone, next to Madrid time, when they differ.
(function () {
  "use strict";
  var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (!zone || zone === "Europe/Madrid") { return; }
  // One format per language, the server's: "jueves, 26 de noviembre, 09:00" and
  // "Thursday, 26 November, 09:00", on a 24-hour clock, with the zone's short name.
  function fmt(iso, lang, withDate) {
    var locale = lang === "en" ? "en-GB" : "es-ES";
    var d = new Date(iso);
    var time = new Intl.DateTimeFormat(locale, { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZoneName: "short" }).format(d);
    if (!withDate) { return time; }
    return new Intl.DateTimeFormat(locale, { weekday: "long", day: "numeric", month: "long" }).format(d) + ", " + time;
  }
  document.querySelectorAll("[data-local-from]").forEach(function (el) {
    var lang = el.getAttribute("data-lang") || "es";
    var from = el.getAttribute("data-local-from");
    var to = el.getAttribute("data-local-to");
    var label = lang === "es" ? "En su hora local: " : "In your local time: ";
    el.textContent = label + fmt(from, lang, !to) + (to ? " – " + fmt(to, lang, false) : "");
  });
  document.querySelectorAll("[data-local-time]").forEach(function (el) {
    var lang = el.getAttribute("data-lang") || "es";
    el.textContent = (lang === "es" ? "; en su hora: " : "; your time: ") + fmt(el.getAttribute("data-local-time"), lang, false);
  });
})();
