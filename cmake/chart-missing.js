// chart.js was not installed when this binary was built (npm ci): no charts.
