/* Draws a tag's value distribution and its history over runs from the JSON embedded in the page. */
(function () {
  "use strict";

  function draw() {
    var source = document.getElementById("tag-data");
    if (!source || typeof echarts === "undefined") {
      return;
    }
    var data = JSON.parse(source.textContent);
    var charts = [];
    var dist = document.getElementById("distribution-chart");
    if (dist && (data.values.length || data.bins.length)) {
      var labels, counts;
      if (data.values.length) {
        labels = data.values.map(function (v) { return v.value; });
        counts = data.values.map(function (v) { return v.count; });
      } else {
        labels = data.bins.map(function (b) {
          if (data.integers && b.low === b.high) { return String(b.low); }
          return Number(b.low.toPrecision(4)) + " – " + Number(b.high.toPrecision(4));
        });
        counts = data.bins.map(function (b) { return b.count; });
      }
      var bars = echarts.init(dist);
      bars.setOption({
        color: ["#2563eb"],
        tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
        grid: { left: 56, right: 24, top: 16, bottom: 56 },
        xAxis: { type: "category", data: labels, axisLabel: { rotate: labels.length > 6 ? 30 : 0 } },
        yAxis: { type: "value" },
        series: [{ type: "bar", data: counts, barMaxWidth: 36 }]
      });
      charts.push(bars);
    }
    var hist = document.getElementById("history-chart");
    if (hist && data.runs.length) {
      var series;
      if (data.series.length) {
        series = data.series.map(function (name) {
          return { name: name, type: "line", data: data.shares.map(function (s) { return s[name] || 0; }) };
        });
      } else {
        series = [{ name: "mean", type: "line", data: data.means }];
      }
      series.push({ name: "customers", type: "bar", yAxisIndex: 1, data: data.coverage, barMaxWidth: 24,
                    itemStyle: { color: "#e5e7eb" }, z: 0 });
      var line = echarts.init(hist);
      line.setOption({
        tooltip: { trigger: "axis" },
        legend: { top: 0 },
        grid: { left: 56, right: 56, top: 40, bottom: 32 },
        xAxis: { type: "category", data: data.runs },
        yAxis: [{ type: "value" }, { type: "value", splitLine: { show: false } }],
        series: series
      });
      charts.push(line);
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
