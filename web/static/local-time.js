// Shows service times in the visitor's own time zone, next to Madrid time, when they differ.
(function () {
  "use strict";
  var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (!zone || zone === "Europe/Madrid") { return; }
  function fmt(iso, lang, withDate) {
    var opts = { hour: "2-digit", minute: "2-digit", timeZoneName: "short" };
    if (withDate) { opts.weekday = "long"; opts.day = "numeric"; opts.month = "long"; }
    return new Intl.DateTimeFormat(lang, opts).format(new Date(iso));
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
