/* Draws the dashboard's monthly revenue/orders chart from the JSON embedded in the page. */
(function () {
  "use strict";

  function draw() {
    var el = document.getElementById("monthly-chart");
    var source = document.getElementById("monthly-data");
    if (!el || !source || typeof echarts === "undefined") {
      return;
    }
    var data = JSON.parse(source.textContent);
    var chart = echarts.init(el, null, { renderer: "canvas" });
    chart.setOption({
      color: ["#2563eb", "#f59e0b"],
      tooltip: { trigger: "axis" },
      legend: { data: [data.labels.revenue, data.labels.orders], top: 0 },
      grid: { left: 56, right: 56, top: 40, bottom: 32 },
      xAxis: { type: "category", data: data.months },
      yAxis: [
        { type: "value", name: data.labels.revenue, splitLine: { lineStyle: { color: "#eef1f5" } } },
        { type: "value", name: data.labels.orders, splitLine: { show: false } }
      ],
      series: [
        { name: data.labels.revenue, type: "bar", data: data.revenue, barMaxWidth: 36 },
        { name: data.labels.orders, type: "line", yAxisIndex: 1, data: data.orders }
      ]
    });
    window.addEventListener("resize", function () {
      chart.resize();
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
