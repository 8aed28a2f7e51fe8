// Draws each insight chart with plotly.js (served by earful from the plotly package).
// The data comes from a json_script element; the same numbers are in the table below it.
(function () {
  "use strict";
  function draw(element) {
    var source = document.getElementById(element.dataset.chart);
    if (!source || !window.Plotly) { return; }
    var data = JSON.parse(source.textContent);
    var traces = Object.keys(data.series).map(function (name) {
      var trace = { name: name, x: data.x, y: data.series[name], type: data.kind === "line" ? "scatter" : "bar" };
      if (data.kind === "line") { trace.mode = "lines"; }
      return trace;
    });
    window.Plotly.newPlot(element, traces, {
      margin: { t: 10, r: 10, b: 40, l: 50 },
      barmode: data.kind === "stack" ? "stack" : "group",
      yaxis: { title: { text: data.y_title }, rangemode: "tozero" },
      legend: { orientation: "h", y: -0.2 },
      font: { family: "system-ui, sans-serif", size: 12 }
    }, { displayModeBar: false, responsive: true, staticPlot: false });
  }
  function drawAll() {
    document.querySelectorAll("[data-chart]").forEach(draw);
    document.body.dataset.chartsDrawn = "true";
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
}());
