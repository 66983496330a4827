// Bar charts over time with uPlot (web/ui/vendor): drag to zoom, double-click
// to zoom out, resized with their container.

const charts = new WeakMap();

export function barChart(target, xs, ys, label) {
  const old = charts.get(target);
  if (old) { old.plot.destroy(); old.observer.disconnect(); }
  target.replaceChildren();
  const width = () => Math.max(240, target.clientWidth);
  const opts = {
    width: width(), height: 240,
    scales: { x: { time: true } },
    series: [{}, { label, stroke: "#2f5bd3", fill: "rgba(47,91,211,.35)", width: 1,
      paths: window.uPlot.paths.bars({ size: [0.8, 40] }), points: { show: false } }],
    axes: [{}, { size: 60 }],
    legend: { show: true },
    cursor: { drag: { x: true, y: false } },
  };
  const plot = new window.uPlot(opts, [xs, ys], target);
  const observer = new ResizeObserver(() => plot.setSize({ width: width(), height: 240 }));
  observer.observe(target);
  charts.set(target, { plot, observer });
}
