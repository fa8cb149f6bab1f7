// Appointment slots offered beside waiting (cita previa): the next free ones, grouped by day
// in Madrid time, booked with the application token. A live booking for the same number is
// replaced only when the citizen says so.

const MADRID = "Europe/Madrid";

/// Fills `list` with the next free slots; `onBooked(booking)` after a booking, `onProblem`
/// with a message to show.
export async function offerSlots(list, { texts, locale, application, onBooked, onProblem }) {
  list.replaceChildren(Object.assign(document.createElement("p"), { className: "muted", textContent: texts.slots_loading }));
  let slots = [];
  try {
    const r = await fetch("/api/v1/bookings/slots", { headers: { accept: "application/json" } });
    if (!r.ok) throw new Error(String(r.status));
    slots = (await r.json()).slots;
  } catch {
    list.replaceChildren();
    onProblem(texts.slots_unavailable);
    return;
  }
  list.replaceChildren();
  if (!slots.length) {
    list.append(Object.assign(document.createElement("p"), { textContent: texts.no_slots }));
    return;
  }
  const days = new Map();
  for (const s of slots) {
    const d = new Date(s.starts);
    const day = d.toLocaleDateString(locale, { weekday: "long", day: "numeric", month: "long", timeZone: MADRID });
    if (!days.has(day)) days.set(day, []);
    days.get(day).push(s);
  }
  // Four days at most, eight times each: enough to choose from on a phone.
  for (const [day, times] of [...days].slice(0, 4)) {
    const group = document.createElement("div");
    group.className = "slot-day";
    group.append(Object.assign(document.createElement("h3"), { textContent: day.charAt(0).toUpperCase() + day.slice(1) }));
    const row = document.createElement("div");
    row.className = "slot-list";
    for (const s of times.slice(0, 8)) {
      const time = new Date(s.starts).toLocaleTimeString(locale, { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: MADRID });
      const b = Object.assign(document.createElement("button"), { type: "button", className: "secondary slot", textContent: time });
      b.setAttribute("aria-label", `${day}, ${time}`);
      b.addEventListener("click", () => book(s.starts, false));
      row.append(b);
    }
    group.append(row);
    list.append(group);
  }

  async function book(slot, replace) {
    onProblem("");
    list.querySelectorAll("button").forEach((b) => { b.disabled = true; });
    let r, body;
    try {
      r = await fetch("/api/v1/bookings", {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json" },
        body: JSON.stringify({ application, slot, replace }),
      });
      body = await r.json().catch(() => ({}));
    } catch {
      list.querySelectorAll("button").forEach((b) => { b.disabled = false; });
      onProblem(texts.booking_failed);
      return;
    }
    list.querySelectorAll("button").forEach((b) => { b.disabled = false; });
    if (r.status === 201) { onBooked(body); return; }
    const code = body.error && body.error.code;
    onProblem((body.error && body.error.message) || texts.booking_failed);
    if (code === "already_booked") {
      const change = Object.assign(document.createElement("button"), { type: "button", textContent: texts.change_booking });
      change.addEventListener("click", () => book(slot, true));
      list.prepend(change);
    } else if (code === "slot_full" || code === "no_such_slot") {
      offerSlots(list, { texts, locale, application, onBooked, onProblem });
    }
  }
}
