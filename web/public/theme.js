// Theme before first paint: the remembered choice, else the system's preference. A file of its own,
// not inline, so the Content-Security-Policy can refuse every inline script.
(function () {
  var t = null;
  try {
    t = localStorage.getItem("sentpulse.theme");
  } catch (e) {}
  if (t !== "light" && t !== "dark") t = matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
  document.documentElement.dataset.theme = t;
})();
