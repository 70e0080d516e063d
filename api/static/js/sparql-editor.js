/* budgetkg SPARQL editor: CodeMirror 5 (served from /static/vendor) over the textarea, queries POSTed to
   /sparql on this server, SELECT results as a table, ASK as 是/否, graphs as text, CSV download. */
(function () {
  'use strict';
  var ID = 'https://w3id.org/budgetkg/id/';
  var MAX_ROWS_SHOWN = 1000;
  var SLOW_MS = 5000;

  var textarea = document.getElementById('sparql-query');
  var form = document.getElementById('sparql-form');
  var status = document.getElementById('sparql-status');
  var out = document.getElementById('sparql-results');
  var csvButton = document.getElementById('download-csv');
  var cancelButton = document.getElementById('cancel-query');
  var runButton = document.getElementById('run-query');
  if (!textarea || !form) { return; }

  var examples = [];
  try { examples = JSON.parse(document.getElementById('sparql-examples').textContent); } catch (e) { examples = []; }

  var cm = null;
  if (window.CodeMirror) {
    cm = window.CodeMirror.fromTextArea(textarea, {
      mode: 'application/sparql-query', lineNumbers: true, matchBrackets: true, indentUnit: 2, tabSize: 2,
      lineWrapping: true, viewportMargin: Infinity, screenReaderLabel: 'SPARQL 查询',
      extraKeys: {
        'Ctrl-Enter': function () { run(); }, 'Cmd-Enter': function () { run(); },
        // Tab leaves the editor (no keyboard trap); indent with Ctrl-] / Ctrl-[
        'Tab': false, 'Shift-Tab': false, 'Ctrl-]': 'indentMore', 'Ctrl-[': 'indentLess'
      }
    });
    // the visible label focuses the editor
    var label = document.querySelector('label[for="sparql-query"]');
    if (label) { label.addEventListener('click', function () { cm.focus(); }); }
  } else {
    textarea.addEventListener('keydown', function (ev) {
      if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) { ev.preventDefault(); run(); }
    });
  }

  function getQuery() { return cm ? cm.getValue() : textarea.value; }
  function setQuery(q) { if (cm) { cm.setValue(q); } else { textarea.value = q; } }

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    if (attrs) { Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); }); }
    if (text !== undefined && text !== null) { e.textContent = text; }
    return e;
  }
  var lastStatus = '';
  function setStatus(text, busy) {
    if (!busy) { lastStatus = text; }
    status.textContent = text;
    status.classList.toggle('busy', !!busy);
  }
  function pageUrl(iri) {
    if (iri.indexOf(ID) !== 0) { return null; }
    var parts = iri.slice(ID.length).split('/');
    if (parts[0] === 'code' && parts.length === 3) { return '/code/' + parts[2] + '?scheme=' + parts[1]; }
    if (parts.length !== 2) { return null; }
    var pages = { project: '/project/', unit: '/unit/', 'department-target': '/target/', doc: '/document/',
                  indicator: '/indicator/', task: '/task/' };
    return pages[parts[0]] ? pages[parts[0]] + parts[1] : null;
  }
  var XSD = 'http://www.w3.org/2001/XMLSchema#';
  function cell(term) {
    var td = el('td');
    if (!term) { return td; }
    if (term.type === 'uri') {
      var url = pageUrl(term.value);
      var node = url ? el('a', { href: url }, term.value) : el('code', { 'class': 'iri' }, term.value);
      td.appendChild(node);
    } else if (term.type === 'bnode') {
      td.textContent = '_:' + term.value;
    } else {
      td.appendChild(document.createTextNode(term.value));
      if (term['xml:lang']) { td.appendChild(el('span', { 'class': 'literal-type' }, '@' + term['xml:lang'])); }
      var dt = term.datatype || '';
      if (/#(integer|decimal|double|float|int|long)$/.test(dt)) { td.className = 'num'; }
      if (dt && dt.indexOf(XSD) === 0 && !/#string$/.test(dt)) { td.title = dt.replace(XSD, 'xsd:'); }
    }
    return td;
  }

  function showTable(json, seconds, truncated) {
    var vars = json.head && json.head.vars ? json.head.vars : [];
    var rows = json.results && json.results.bindings ? json.results.bindings : [];
    out.innerHTML = '';
    var msg = '共 ' + rows.length + ' 行';
    if (seconds) { msg += '，用时 ' + Number(seconds).toFixed(2) + ' 秒'; }
    if (truncated) { msg += '。结果超过服务器上限，只返回了前 ' + rows.length + ' 行'; }
    setStatus(msg + '。');
    if (!rows.length) {
      out.appendChild(el('p', { 'class': 'alert' }, '查询没有结果。请检查条件或换一个示例试试。'));
      return;
    }
    var wrap = el('div', { 'class': 'table-wrap', tabindex: '0', role: 'region', 'aria-label': '查询结果表' });
    var table = el('table', { 'class': 'data' });
    var thead = el('thead'), tr = el('tr');
    vars.forEach(function (v) { tr.appendChild(el('th', { scope: 'col' }, v)); });
    thead.appendChild(tr);
    table.appendChild(thead);
    var tbody = el('tbody');
    rows.slice(0, MAX_ROWS_SHOWN).forEach(function (b) {
      var r = el('tr');
      vars.forEach(function (v) { r.appendChild(cell(b[v])); });
      tbody.appendChild(r);
    });
    table.appendChild(tbody);
    wrap.appendChild(table);
    out.appendChild(wrap);
    if (rows.length > MAX_ROWS_SHOWN) {
      out.appendChild(el('p', { 'class': 'muted small' }, '表格只显示前 ' + MAX_ROWS_SHOWN + ' 行；下载 CSV 可得到全部结果。'));
    }
  }

  var MESSAGES = {
    400: '查询有误，服务器无法解析：',
    403: '查询被拒绝：这是只读端点，不能执行更新、LOAD 或 SERVICE。',
    406: '服务器无法以所要求的格式返回结果。',
    408: '查询超时。',
    413: '查询文本过长。',
    415: '请求格式不受支持。',
    429: '请求过于频繁，请稍后再试。',
    500: '查询执行失败：',
    503: '查询超时或服务器繁忙：请缩小查询范围（例如加 LIMIT 或更具体的条件）后重试。'
  };
  function showError(statusCode, body) {
    var detail = '', title = '';
    try {
      var j = JSON.parse(body);
      title = j.error || '';
      detail = typeof j.detail === 'string' ? j.detail : JSON.stringify(j.detail, null, 2);
    } catch (e) { detail = body; }
    var msg = MESSAGES[statusCode] || ('查询失败（HTTP ' + statusCode + '）：');
    setStatus(msg.replace(/：$/, '。'));
    out.innerHTML = '';
    var box = el('div', { 'class': 'alert alert-error sparql-error', role: 'alert' });
    box.appendChild(el('p', null, msg + (title ? '（' + title + '）' : '')));
    if (detail) { box.appendChild(el('pre', null, detail)); }
    out.appendChild(box);
  }

  var controller = null, slowTimer = null, tick = null;
  function finish() {
    clearTimeout(slowTimer);
    clearInterval(tick);
    cancelButton.hidden = true;
    runButton.disabled = false;
    controller = null;
  }

  function run() {
    var q = getQuery();
    if (!q.trim()) { setStatus('请先输入查询。'); return; }
    if (controller) { controller.abort(); }
    clearTimeout(slowTimer);
    clearInterval(tick);
    controller = new AbortController();
    var mine = controller;
    var started = Date.now();
    try { history.replaceState(null, '', '/sparql-editor?query=' + encodeURIComponent(q)); } catch (e) { /* ignore */ }
    setStatus('正在查询…', true);
    runButton.disabled = true;
    csvButton.disabled = true;
    slowTimer = setTimeout(function () {
      cancelButton.hidden = false;
      tick = setInterval(function () {
        setStatus('查询较慢，已用 ' + Math.round((Date.now() - started) / 1000) + ' 秒，仍在执行…（服务器最多等待 30 秒，可点“取消”）', true);
      }, 1000);
    }, SLOW_MS);
    fetch('/sparql', {
      method: 'POST', signal: mine.signal,
      headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=UTF-8',
                 'Accept': 'application/sparql-results+json, text/turtle;q=0.9, */*;q=0.1' },
      body: new URLSearchParams({ query: q }).toString()
    }).then(function (resp) {
      return resp.text().then(function (body) { return { resp: resp, body: body }; });
    }).then(function (r) {
      if (mine !== controller) { return; }
      finish();
      var seconds = r.resp.headers.get('X-Budgetkg-Query-Seconds') || (Date.now() - started) / 1000;
      var truncated = r.resp.headers.get('X-Budgetkg-Truncated') === 'true';
      if (!r.resp.ok) { showError(r.resp.status, r.body); return; }
      var type = r.resp.headers.get('Content-Type') || '';
      if (type.indexOf('json') >= 0) {
        var json = JSON.parse(r.body);
        if (typeof json.boolean === 'boolean') {
          out.innerHTML = '';
          out.appendChild(el('p', { 'class': 'ask-answer' }, json.boolean ? '是（true）' : '否（false）'));
          setStatus('ASK 查询完成，用时 ' + Number(seconds).toFixed(2) + ' 秒。');
          return;
        }
        showTable(json, seconds, truncated);
        csvButton.disabled = false;
      } else {
        out.innerHTML = '';
        out.appendChild(el('pre', { 'class': 'sparql-text' }, r.body));
        setStatus('查询完成（' + type.split(';')[0] + '），用时 ' + Number(seconds).toFixed(2) + ' 秒。');
      }
    }).catch(function (err) {
      if (mine !== controller) { return; }
      finish();
      if (err && err.name === 'AbortError') { setStatus('查询已取消。'); return; }
      setStatus('无法连接服务器，请检查服务是否仍在运行。');
      out.innerHTML = '';
      out.appendChild(el('p', { 'class': 'alert alert-error', role: 'alert' }, '无法连接服务器：' + (err && err.message ? err.message : err)));
    });
  }

  function downloadCsv() {
    var q = getQuery();
    csvButton.disabled = true;
    setStatus('正在准备 CSV…', true);
    fetch('/sparql', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=UTF-8', 'Accept': 'text/csv' },
      body: new URLSearchParams({ query: q }).toString()
    }).then(function (resp) {
      return resp.text().then(function (body) { return { resp: resp, body: body }; });
    }).then(function (r) {
      csvButton.disabled = false;
      if (!r.resp.ok) { showError(r.resp.status, r.body); return; }
      // a BOM so that spreadsheet programs read the Chinese text as UTF-8
      var blob = new Blob(['\ufeff' + r.body], { type: 'text/csv;charset=utf-8' });
      var url = URL.createObjectURL(blob);
      var a = el('a', { href: url, download: 'sparql-results.csv' });
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(function () { URL.revokeObjectURL(url); }, 1000);
      setStatus(lastStatus.replace(/ 已下载 CSV.*$/, '') + ' 已下载 CSV（sparql-results.csv）。');
    }).catch(function (err) {
      csvButton.disabled = false;
      setStatus('下载 CSV 失败：' + (err && err.message ? err.message : err));
    });
  }

  form.addEventListener('submit', function (ev) { ev.preventDefault(); run(); });
  csvButton.addEventListener('click', downloadCsv);
  cancelButton.addEventListener('click', function () { if (controller) { controller.abort(); } });
  Array.prototype.forEach.call(document.querySelectorAll('[data-example]'), function (b) {
    b.addEventListener('click', function () {
      var ex = examples[Number(b.getAttribute('data-example'))];
      if (!ex) { return; }
      setQuery(ex.query);
      run();
    });
  });
  if (cm) { cm.on('change', function () { csvButton.disabled = true; }); }
  else { textarea.addEventListener('input', function () { csvButton.disabled = true; }); }
})();
