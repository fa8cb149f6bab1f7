// Appointment slots (cita previa): the next free ones, grouped by day in Madrid time, booked
// with `bookSlot`: from the queue page with the application token (a live booking for the
// same number is replaced only when the citizen says so), or from the appointment page to
// move the booking.

import { MADRID } from "/static/when.js";

const postJson = (path, body) => fetch(path, {
  method: "POST",
  headers: { "content-type": "application/json", accept: "application/json" },
  body: JSON.stringify(body),
});

/// Books `slot` with the application token (replacing a live booking when `replace`).
export function withApplication(application) {
  return (slot, replace) => postJson("/api/v1/bookings", { application, slot, replace });
}

/// Moves the browser's own booking to `slot`.
export function moveMine(slot) {
  return postJson("/api/v1/bookings/mine/slot", { slot });
}

/// Fills `list` with the next free slots; `when` formats them (when.js), `bookSlot(slot,
/// replace)` books one (a fetch promise), `onBooked(booking)` after a booking, `onProblem`
/// with a message to show.
export async function offerSlots(list, options) {
  const { texts, when, bookSlot, onBooked, onProblem } = options;
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
    const day = when.day(d, MADRID);
    if (!days.has(day)) days.set(day, []);
    days.get(day).push(s);
  }
  // Four days at most: enough to choose from on a phone.
  for (const [day, times] of [...days].slice(0, 4)) {
    const group = document.createElement("div");
    group.className = "slot-day";
    group.append(Object.assign(document.createElement("h3"), { textContent: day.charAt(0).toUpperCase() + day.slice(1) }));
    const row = document.createElement("div");
    row.className = "slot-list";
    times.forEach((s, i) => {
      const time = when.clock(new Date(s.starts), MADRID);
      const b = Object.assign(document.createElement("button"), { type: "button", className: "secondary slot", textContent: time });
      b.setAttribute("aria-label", `${day}, ${time}`);
      b.addEventListener("click", () => book(s.starts, false));
      // Eight at first; the rest of the day behind "more times".
      b.hidden = i >= 8;
      row.append(b);
    });
    group.append(row);
    if (times.length > 8) {
      const more = Object.assign(document.createElement("button"), { type: "button", className: "link", textContent: texts.more_times });
      more.addEventListener("click", () => {
        row.querySelectorAll("button.slot").forEach((b) => { b.hidden = false; });
        more.remove();
      });
      group.append(more);
    }
    list.append(group);
  }

  async function book(slot, replace) {
    onProblem("");
    const buttons = list.querySelectorAll("button");
    buttons.forEach((b) => { b.disabled = true; });
    let r, body;
    try {
      r = await bookSlot(slot, replace);
      body = await r.json().catch(() => ({}));
    } catch {
      onProblem(texts.booking_failed);
      return;
    } finally {
      buttons.forEach((b) => { b.disabled = false; });
    }
    if (r.status === 201) { onBooked(body); return; }
    const code = body.error && body.error.code;
    onProblem((body.error && body.error.message) || texts.booking_failed);
    if (code === "already_booked") {
      // Only a booking with the application token meets a live one it may replace.
      const change = Object.assign(document.createElement("button"), { type: "button", textContent: texts.change_booking });
      change.addEventListener("click", () => book(slot, true));
      list.prepend(change);
    } else if (code === "slot_full" || code === "no_such_slot") {
      offerSlots(list, options);
    }
  }
}
