import * as echarts from 'echarts';
const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width: 600, height: 300 });
chart.setOption({ animation: false, aria: { enabled: true }, title: { text: 'Incidents by month' }, xAxis: { type: 'category', data: ['2026-10', '2026-11'] }, yAxis: { type: 'value' }, series: [{ type: 'bar', name: 'SEV1', stack: 's', data: [1, 2] }, { type: 'bar', name: 'SEV2', stack: 's', data: [3, 0] }], legend: {} });
const svg = chart.renderToSVGString();
console.log(svg.match(/<style[\s\S]*?<\/style>/g), svg.match(/aria[^ ]*="[^"]*"/g), svg.match(/style="[^"]*"/g)?.slice(0,5));
