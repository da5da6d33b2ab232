// The charts and components the portal's pages use, and nothing else (static/dashboards/map.js:
// line and bar series on a cartesian grid, with legend and tooltip). ECharts drops an option whose
// component is not registered without a word, so a chart that gains an option (dataZoom, markLine,
// title, …) must gain its component here, and the bundle must be rebuilt (README.md).
import * as echarts from "echarts/core";
import { BarChart, LineChart } from "echarts/charts";
import { GridComponent, LegendComponent, TooltipComponent } from "echarts/components";
import { CanvasRenderer } from "echarts/renderers";

echarts.use([LineChart, BarChart, GridComponent, LegendComponent, TooltipComponent, CanvasRenderer]);

// The pages read the global `echarts`, as with the upstream dist files.
window.echarts = echarts;
