/* Draws a model run's lift by decile, calibration curve and feature importance from the page's JSON. */
(function () {
  "use strict";

  function draw() {
    var source = document.getElementById("model-data");
    if (!source || typeof echarts === "undefined") {
      return;
    }
    var data = JSON.parse(source.textContent);
    var charts = [];
    var lift = document.getElementById("lift-chart");
    if (lift && data.lift.length) {
      var bars = echarts.init(lift);
      bars.setOption({
        color: ["#2563eb", "#f59e0b"],
        tooltip: { trigger: "axis" },
        grid: { left: 48, right: 48, top: 16, bottom: 32 },
        xAxis: { type: "category", data: data.lift.map(function (d) { return d.group; }) },
        yAxis: [{ type: "value", name: "lift" }, { type: "value", max: 1, name: "capture" }],
        series: [
          { type: "bar", data: data.lift.map(function (d) { return d.lift; }), barMaxWidth: 24,
            markLine: { data: [{ yAxis: 1 }], symbol: "none", lineStyle: { color: "#9ca3af" } } },
          { type: "line", yAxisIndex: 1, data: data.lift.map(function (d) { return d.capture; }) }
        ]
      });
      charts.push(bars);
    }
    var calibration = document.getElementById("calibration-chart");
    if (calibration && data.calibration.length) {
      var curve = echarts.init(calibration);
      curve.setOption({
        color: ["#16a34a", "#9ca3af"],
        tooltip: { trigger: "item" },
        grid: { left: 48, right: 24, top: 16, bottom: 32 },
        xAxis: { type: "value", min: 0, max: 1, name: "predicted" },
        yAxis: { type: "value", min: 0, max: 1, name: "observed" },
        series: [
          { type: "line", data: data.calibration.map(function (d) { return [d.predicted, d.observed]; }) },
          { type: "line", data: [[0, 0], [1, 1]], symbol: "none", lineStyle: { type: "dashed" } }
        ]
      });
      charts.push(curve);
    }
    var importance = document.getElementById("importance-chart");
    if (importance && data.importance.length) {
      var rows = data.importance.slice().reverse();
      var hbars = echarts.init(importance);
      hbars.setOption({
        color: ["#7c3aed"],
        tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
        grid: { left: 160, right: 24, top: 8, bottom: 24 },
        xAxis: { type: "value" },
        yAxis: { type: "category", data: rows.map(function (d) { return d.feature; }) },
        series: [{ type: "bar", data: rows.map(function (d) { return d.drop; }), barMaxWidth: 18 }]
      });
      charts.push(hbars);
    }
    window.addEventListener("resize", function () {
      charts.forEach(function (c) { c.resize(); });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
