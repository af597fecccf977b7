// The "Copy" buttons on a campaign's admin page (alerts/admin/partners.py): a button's
// data-copy names the read-only field whose text it puts on the clipboard.
"use strict";

document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-copy]");
  if (!button) {
    return;
  }
  const field = document.getElementById(button.dataset.copy);
  if (!field) {
    return;
  }
  field.focus();
  field.select();
  const copied = () => {
    button.textContent = "Copied";
    window.setTimeout(() => {
      button.textContent = "Copy";
    }, 2000);
  };
  // The Clipboard API needs a secure context; over plain http (a local run) the selection is
  // copied the old way.
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(field.value).then(copied, () => {
      document.execCommand("copy");
      copied();
    });
  } else {
    document.execCommand("copy");
    copied();
  }
});
