// sioconform report filters (reports/conformhtml.go): by verdict (the
// checkboxes) and by case id prefix (the search box).
(function () {
  "use strict";
  const prefix = document.getElementById("prefix");
  const boxes = Array.from(document.querySelectorAll("input.verdict"));
  const rows = Array.from(document.querySelectorAll(".case"));
  const shown = document.getElementById("shown");
  function apply() {
    const p = prefix ? prefix.value.trim() : "";
    const on = new Set(boxes.filter(function (b) { return b.checked; }).map(function (b) { return b.value; }));
    let n = 0;
    rows.forEach(function (r) {
      const vs = r.dataset.verdicts.split(" ");
      const okV = !boxes.length || vs.some(function (v) { return on.has(v); });
      const ok = okV && r.dataset.id.indexOf(p) === 0;
      r.style.display = ok ? "" : "none";
      if (ok) n++;
    });
    if (shown) shown.textContent = n + " of " + rows.length + " cases shown";
  }
  boxes.forEach(function (b) { b.addEventListener("change", apply); });
  if (prefix) prefix.addEventListener("input", apply);
  apply();
})();
