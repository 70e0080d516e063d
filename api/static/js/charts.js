/* budgetkg charts: every <div class="chart" data-chart="KIND" data-source="ID"> is drawn with ECharts
   (served from /static/vendor) from the JSON in <script type="application/json" id="ID">. */
(function () {
  'use strict';
  var FONT = '"Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", sans-serif';
  var PALETTE = ['#2f6db5', '#e07b39', '#3a9a5b', '#c0504d', '#8064a2', '#2aa3b8', '#9c7a3c', '#d4a017', '#6b7b8c', '#d45087',
                 '#665191', '#91b33d'];
  var charts = [];

  function num(v, digits) {
    if (v === null || v === undefined || isNaN(v)) { return '—'; }
    return Number(v).toLocaleString('zh-CN', { minimumFractionDigits: digits, maximumFractionDigits: digits });
  }
  function narrow(el) { return el.clientWidth < 560; }
  function base(el) {
    return {
      color: PALETTE,
      textStyle: { fontFamily: FONT },
      animation: !window.matchMedia('(prefers-reduced-motion: reduce)').matches,
      tooltip: { confine: true, textStyle: { fontFamily: FONT } }
    };
  }
  // how many rows a plain legend of these names takes (CJK glyphs about one font size wide)
  function legendRows(names, width, px) {
    var rows = 1, x = 0;
    names.forEach(function (n) {
      var w = 25 + 5 + n.length * px + 10;
      if (x + w > width && x > 0) { rows += 1; x = 0; }
      x += w;
    });
    return rows;
  }
  function legend(el, top) {
    return { type: 'scroll', top: top || 0, left: 0, right: 0, textStyle: { fontFamily: FONT, width: narrow(el) ? 110 : 220, overflow: 'truncate' } };
  }
  function axisTooltip(unit) {
    return {
      trigger: 'axis', axisPointer: { type: 'shadow' }, confine: true,
      formatter: function (items) {
        var head = items.length ? items[0].axisValueLabel : '';
        var lines = items.filter(function (i) { return i.value !== null && i.value !== undefined; }).map(function (i) {
          return i.marker + i.seriesName + '：' + num(i.value, unit === '条' ? 0 : 2) + ' ' + unit;
        });
        return [head].concat(lines).join('<br>');
      }
    };
  }
  function valueAxis(unit, horizontal) {
    return { type: 'value', name: unit, nameLocation: 'end', nameGap: horizontal ? 8 : 12,
             nameTextStyle: { fontFamily: FONT, align: horizontal ? 'left' : 'center' },
             axisLabel: { fontFamily: FONT, hideOverlap: true } };
  }
  function categoryAxis(el, cats, horizontal) {
    var w = Math.max(80, Math.floor(el.clientWidth * (horizontal ? 0.38 : 0.18)));
    return { type: 'category', data: cats, inverse: !!horizontal,
             axisLabel: { fontFamily: FONT, width: w, overflow: 'truncate', interval: 0, hideOverlap: !horizontal,
                          rotate: !horizontal && narrow(el) && cats.length > 4 ? 30 : 0 },
             axisTick: { alignWithLabel: true } };
  }

  // vertical bars by category with a legend of series above them (stacked and grouped alike)
  function verticalBars(el, d) {
    var o = base(el);
    o.legend = legend(el);
    o.tooltip = axisTooltip(d.unit);
    o.grid = { left: 8, right: 16, top: 64, bottom: 8, containLabel: true };
    o.xAxis = categoryAxis(el, d.categories, false);
    o.yAxis = valueAxis(d.unit);
    return o;
  }

  var builders = {
    // vertical bars, one series per year, stacked: {categories, series: [{name, data}], counts, links, unit}
    stacked: function (el, d) {
      var o = verticalBars(el, d);
      o.series = d.series.map(function (s) {
        return { type: 'bar', name: s.name, stack: 'total', data: s.data, barMaxWidth: 56, emphasis: { focus: 'series' } };
      });
      return o;
    },
    // horizontal stacked bars (many categories with long names)
    hstacked: function (el, d) {
      var o = base(el);
      // every series name visible: a wrapping legend below the bars, the chart grown to hold it
      var names = d.series.map(function (s) { return s.name; });
      var rows = legendRows(names, el.clientWidth - 16, 12);
      var h0 = parseInt(el.getAttribute('data-height'), 10) || 360;
      el.style.height = (h0 + rows * 24) + 'px';
      o.legend = { type: 'plain', bottom: 4, left: 0, right: 0, itemGap: 10, textStyle: { fontFamily: FONT, fontSize: 12 } };
      o.tooltip = axisTooltip(d.unit);
      o.grid = { left: 8, right: 40, top: 16, bottom: 16 + rows * 24, containLabel: true };
      o.yAxis = categoryAxis(el, d.categories, true);
      o.xAxis = valueAxis(d.unit, true);
      o.series = d.series.map(function (s) {
        return { type: 'bar', name: s.name, stack: 'total', data: s.data, barMaxWidth: 28, emphasis: { focus: 'series' } };
      });
      return o;
    },
    // horizontal bars with one value each: {categories, values, links?, unit}
    bars: function (el, d) {
      var o = base(el);
      el.style.height = Math.max(160, 56 + 44 * d.categories.length) + 'px';
      o.tooltip = { trigger: 'item', confine: true, formatter: function (p) { return p.name + '<br>' + num(p.value, 2) + ' ' + d.unit; } };
      o.grid = { left: 8, right: 64, top: 16, bottom: 8, containLabel: true };
      o.yAxis = categoryAxis(el, d.categories, true);
      o.xAxis = valueAxis(d.unit, true);
      o.series = [{ type: 'bar', data: d.values, barMaxWidth: 26, itemStyle: { color: PALETTE[0] },
                    label: { show: true, position: 'right', fontFamily: FONT, formatter: function (p) { return num(p.value, 2); } } }];
      return o;
    },
    // grouped vertical bars: {categories, series: [names], values: [[per category] per series], unit}
    grouped: function (el, d) {
      var o = verticalBars(el, d);
      o.yAxis.minInterval = 1;
      o.series = d.series.map(function (name, k) {
        return { type: 'bar', name: name, data: d.values[k], barMaxWidth: 28 };
      });
      return o;
    },
    // the indicator mix: [{name: 一级, children: [{name: 二级, value}]}]; two rings on wide screens
    // (一级 inside, 二级 outside), bars of 二级 coloured by 一级 on phones
    mix: function (el, d) {
      var o = base(el);
      var inner = [], outer = [], colors = {};
      d.forEach(function (l1, k) {
        var color = PALETTE[k % PALETTE.length];
        colors[l1.name] = color;
        var total = 0;
        l1.children.forEach(function (l2, j) {
          total += l2.value;
          outer.push({ name: l2.name, value: l2.value, parent: l1.name,
                       itemStyle: { color: color, opacity: 1 - 0.5 * (j / Math.max(1, l1.children.length)) } });
        });
        inner.push({ name: l1.name, value: total, itemStyle: { color: color } });
      });
      if (narrow(el)) {
        var names = outer.map(function (x) { return x.parent + ' › ' + x.name; });
        el.style.height = (64 + 30 * outer.length) + 'px';
        o.legend = { type: 'scroll', top: 0, left: 0, right: 0, data: inner.map(function (x) { return x.name; }),
                     textStyle: { fontFamily: FONT } };
        o.tooltip = { trigger: 'item', confine: true, formatter: function (p) { return names[p.dataIndex] + '：' + p.value + ' 条'; } };
        o.grid = { left: 8, right: 32, top: 40, bottom: 8, containLabel: true };
        o.xAxis = { type: 'value', minInterval: 1, axisLabel: { fontFamily: FONT } };
        o.yAxis = { type: 'category', inverse: true, data: outer.map(function (x) { return x.name; }),
                    axisLabel: { fontFamily: FONT, width: Math.floor(el.clientWidth * 0.45), overflow: 'truncate', interval: 0 } };
        // one series per 一级 so that the legend explains the colours
        o.series = inner.map(function (l1) {
          return { type: 'bar', name: l1.name, stack: 'n', barMaxWidth: 18, itemStyle: { color: colors[l1.name] },
                   label: { show: true, position: 'right', fontFamily: FONT },
                   data: outer.map(function (x) { return x.parent === l1.name ? x.value : null; }) };
        });
        return o;
      }
      el.style.height = el.getAttribute('data-height') || '';
      o.legend = { top: 0, left: 'center', data: inner.map(function (x) { return x.name; }), textStyle: { fontFamily: FONT } };
      o.tooltip = { trigger: 'item', confine: true, formatter: function (p) {
        var who = p.data.parent ? p.data.parent + ' › ' + p.name : p.name;
        return who + '：' + p.value + ' 条（' + p.percent + '%）';
      } };
      o.series = [
        { type: 'pie', radius: [0, '34%'], center: ['50%', '55%'], data: inner, selectedMode: false, minShowLabelAngle: 70,
          label: { position: 'inner', fontFamily: FONT, color: '#fff', fontSize: 12, formatter: '{b}' }, labelLine: { show: false } },
        { type: 'pie', radius: ['42%', '68%'], center: ['50%', '55%'], data: outer,
          label: { show: true, fontFamily: FONT, fontSize: 12, formatter: '{b} {c}', width: 140, overflow: 'break' },
          labelLayout: { hideOverlap: true }, labelLine: { length: 10, length2: 8 } }
      ];
      return o;
    }
  };

  function draw(el) {
    var kind = el.getAttribute('data-chart');
    var src = document.getElementById(el.getAttribute('data-source'));
    if (!builders[kind] || !src) { return; }
    if (!window.echarts) {
      el.innerHTML = '<p class="alert">图表库未能加载，请查看下方数据表。</p>';
      return;
    }
    var data;
    try { data = JSON.parse(src.textContent); } catch (e) { el.textContent = '图表数据无效。'; return; }
    var empty = Array.isArray(data) ? !data.length : !(data.categories && data.categories.length);
    if (empty) { el.innerHTML = '<p class="muted">没有可以画图的数据。</p>'; el.style.height = 'auto'; return; }
    el.setAttribute('data-height', el.style.height);
    var option = builders[kind](el, data);  // may set the element's height first
    var chart = window.echarts.init(el, null, { renderer: 'canvas', locale: 'ZH' });
    chart.setOption(option);
    var links = data.links;
    if (links) {
      chart.on('click', function (p) {
        var url = links[p.dataIndex];
        if (url) { window.location.href = url.charAt(0) === '/' ? url : '/code/' + url; }
      });
      el.style.cursor = 'pointer';
    }
    charts.push({ chart: chart, el: el, kind: kind, data: data });
  }

  function redrawAll() {
    charts.forEach(function (c) {
      var option = builders[c.kind](c.el, c.data);
      c.chart.resize();
      c.chart.setOption(option, true);
    });
  }

  var pending;
  window.addEventListener('resize', function () {
    clearTimeout(pending);
    pending = setTimeout(redrawAll, 150);
  });
  Array.prototype.forEach.call(document.querySelectorAll('.chart[data-chart]'), draw);
})();
