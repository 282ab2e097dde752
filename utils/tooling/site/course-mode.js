// pydata-sphinx-theme reads the colour mode from localStorage, which is empty on a reader's
// first visit; it then logs "Got invalid theme mode" as a console error. Start from "auto".
if (!document.documentElement.dataset.mode) {
  document.documentElement.dataset.mode = "auto";
}
