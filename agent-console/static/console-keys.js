// The console's keyboard: one key per action an agent repeats all day (take next, accept,
// capture front/back/face, mute) and `?` for the help overlay. A key presses the button that
// carries it in `data-key`, only when that button is shown and enabled; nothing happens while
// the agent types in a field, holds a modifier, or has a dialog open.

import { $ } from "./staff.js";

/// Whether the key went to something the agent types in.
function typing(target) {
  if (!(target instanceof Element)) return false;
  if (target.isContentEditable) return true;
  const tag = target.tagName;
  if (tag === "TEXTAREA" || tag === "SELECT") return true;
  if (tag !== "INPUT") return false;
  return !["checkbox", "radio", "button", "submit", "reset"].includes(target.type);
}

/// The button for `key`, if the agent can press it now.
function buttonFor(key) {
  const b = document.querySelector(`button[data-key="${CSS.escape(key)}"]`);
  if (!b || b.disabled || b.closest("[hidden]") || !b.getClientRects().length) return null;
  return b;
}

export function wireShortcuts() {
  const help = $("keys");
  $("show-keys").onclick = () => help.showModal();
  document.addEventListener("keydown", (e) => {
    if (e.defaultPrevented || e.repeat || e.ctrlKey || e.metaKey || e.altKey) return;
    if (typing(e.target) || document.querySelector("dialog[open]")) return;
    if (e.key === "?") {
      e.preventDefault();
      help.showModal();
      return;
    }
    const b = buttonFor(e.key.toLowerCase());
    if (b) {
      e.preventDefault();
      b.click();
    }
  });
}
