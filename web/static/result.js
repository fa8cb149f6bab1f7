// The outcome a citizen must not lose: the activation code, shown once by the server, is kept
// in this tab's sessionStorage (never in a URL, never sent back to the server) until it
// expires, so that Back and reload show it again and /activate can fill itself in. The code
// is drawn one group per unbreakable span, so that a narrow screen can break it only at its
// dashes.

const KEY = "videoreg.result";

/// Keeps what the result page shows, for this tab only.
export function saveResult(result) {
  try { sessionStorage.setItem(KEY, JSON.stringify(result)); } catch { /* private mode: shown once */ }
}

/// The kept result, or null when there is none or its code has expired.
export function loadResult() {
  let result = null;
  try { result = JSON.parse(sessionStorage.getItem(KEY) || "null"); } catch { result = null; }
  if (!result || typeof result.code !== "string") return null;
  if (result.expires_at && Date.parse(result.expires_at) <= Date.now()) {
    sessionStorage.removeItem(KEY);
    return null;
  }
  return result;
}

/// Forgets the result (once the code has been used).
export function forgetResult() {
  sessionStorage.removeItem(KEY);
}

/// Writes `code` into `output` as groups that never break inside; a line may end only after a
/// dash. The text stays the code itself, so copying and selecting are unchanged.
export function renderCode(output, code) {
  output.replaceChildren();
  const groups = code.split("-");
  groups.forEach((group, i) => {
    const span = document.createElement("span");
    span.className = "code-group";
    span.textContent = i < groups.length - 1 ? `${group}-` : group;
    output.append(span);
    if (i < groups.length - 1) output.append(document.createElement("wbr"));
  });
}
