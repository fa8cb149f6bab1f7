// Decisions that cannot be made by a slip: rejecting and aborting need a reason the agent
// chooses (the lists start on no reason), and every outcome that ends the call without an
// approval — reject, abort, hang up — is confirmed in a dialog that names it and says what
// the citizen will be told; Cancel has the focus. The server refuses a missing reason too.

import { $, t } from "./staff.js";

/// Enables reject and abort once a reason is chosen; `reset` first clears both choices.
export function reasonsChosen(reset = false) {
  if (reset) {
    $("reject-reason").value = "";
    $("abort-reason").value = "";
  }
  for (const kind of ["reject", "abort"]) {
    const chosen = Boolean($(`${kind}-reason`).value);
    $(kind).disabled = !chosen;
    $(`${kind}-why`).hidden = chosen;
  }
}

/// Asks the agent to confirm in a modal dialog; resolves to whether they did.
export function confirmed(title, text, yes) {
  const dialog = $("confirm");
  $("confirm-title").textContent = title;
  $("confirm-text").textContent = text;
  $("confirm-yes").textContent = yes;
  dialog.returnValue = "";
  return new Promise((done) => {
    dialog.onclose = () => done(dialog.returnValue === "yes");
    dialog.showModal();
    $("confirm-cancel").focus();
  });
}

/// The chosen option's label, as it reads inside a sentence.
const chosen = (select) => select.selectedOptions[0].textContent.trim();
const inSentence = (label) => label.charAt(0).toLowerCase() + label.slice(1);

/// Wires reject, abort and hang up: `decide(decision, reason)` records a decision and
/// `send(message)` talks to the agent socket.
export function wireDecisions(decide, send) {
  $("reject-reason").onchange = () => reasonsChosen();
  $("abort-reason").onchange = () => reasonsChosen();
  $("reject").onclick = async () => {
    const select = $("reject-reason");
    if (!select.value) return;
    const label = inSentence(chosen(select));
    const told = select.selectedOptions[0].dataset.citizen;
    const ok = await confirmed(
      t(`¿Rechazar por «${label}»?`, `Reject: ${label}?`),
      t(`Se le dirá al ciudadano: «${told}»`, `The citizen will be told: “${told}”`),
      t("Rechazar la solicitud", "Reject the application"));
    if (ok) decide("reject", select.value);
  };
  $("abort").onclick = async () => {
    const select = $("abort-reason");
    if (!select.value) return;
    const label = inSentence(chosen(select));
    const ok = await confirmed(
      t(`¿Interrumpir por «${label}»?`, `Abort: ${label}?`),
      t("La llamada termina y el ciudadano vuelve el primero a la cola; se le dirá el motivo.",
        "The call ends and the citizen goes back to the head of the queue; they will be told why."),
      t("Interrumpir la llamada", "Abort the call"));
    if (ok) decide("abort", select.value);
  };
  $("hang-up").onclick = async () => {
    const ok = await confirmed(
      t("¿Colgar sin decidir?", "Hang up without a decision?"),
      t("La llamada termina sin aprobar ni rechazar, y el ciudadano verá que ha terminado.",
        "The call ends without approving or rejecting, and the citizen will see that it ended."),
      t("Colgar", "Hang up"));
    if (ok) send({ type: "hang_up" });
  };
}
