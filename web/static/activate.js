// /activate: the ID number and the activation code come from the result page of this same tab
// (sessionStorage, see result.js), so that the citizen never retypes the code; nothing typed
// is replaced. Once the code is used, the tab forgets it.

import { forgetResult, loadResult } from "/static/result.js";

if (document.querySelector("[data-code-used]")) {
  forgetResult();
} else {
  const result = loadResult();
  const fill = (id, value) => {
    const field = document.getElementById(id);
    if (field && !field.value && value) {
      field.value = value;
      field.dataset.prefilled = "true";
    }
  };
  if (result) {
    fill("id_number", result.id_number);
    fill("code", result.code);
    const note = document.getElementById("prefilled-note");
    if (note && result.id_number && result.code) note.hidden = false;
  }
}
