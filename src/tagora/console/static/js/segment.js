/* Draws a segment's TGI bars and size history from the JSON embedded in the page. */
(function () {
  "use strict";

  function draw() {
    var source = document.getElementById("segment-data");
    if (!source || typeof echarts === "undefined") {
      return;
    }
    var data = JSON.parse(source.textContent);
    var charts = [];
    var tgi = document.getElementById("tgi-chart");
    if (tgi && data.distinguishing.length) {
      var rows = data.distinguishing.slice().reverse();
      var bars = echarts.init(tgi);
      bars.setOption({
        color: ["#2563eb"],
        tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
        grid: { left: 160, right: 24, top: 8, bottom: 24 },
        xAxis: { type: "value" },
        yAxis: { type: "category", data: rows.map(function (d) { return d.tag + " = " + d.value; }) },
        series: [{ type: "bar", data: rows.map(function (d) { return d.tgi; }), barMaxWidth: 18,
                   markLine: { data: [{ xAxis: 100 }], symbol: "none", lineStyle: { color: "#9ca3af" } } }]
      });
      charts.push(bars);
    }
    var size = document.getElementById("size-chart");
    if (size && data.days.length) {
      var line = echarts.init(size);
      line.setOption({
        color: ["#f59e0b"],
        tooltip: { trigger: "axis" },
        grid: { left: 56, right: 24, top: 16, bottom: 32 },
        xAxis: { type: "category", data: data.days },
        yAxis: { type: "value" },
        series: [{ type: "line", data: data.sizes }]
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
