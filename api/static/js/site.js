/* budgetkg: small progressive enhancements shared by every page (no dependencies). */
(function () {
  'use strict';
  // search: say that the search is running, and say so again when it is slow
  var form = document.getElementById('search-form');
  var status = document.getElementById('search-status');
  if (form && status) {
    form.addEventListener('submit', function () {
      var t1 = setTimeout(function () {
        status.textContent = '正在检索…';
        status.classList.add('busy');
      }, 200);
      var t2 = setTimeout(function () {
        status.textContent = '检索较慢，仍在进行，请稍候…（首次检索需要加载模型）';
      }, 4000);
      window.addEventListener('pagehide', function () { clearTimeout(t1); clearTimeout(t2); });
    });
  }
  // a link to a table inside a closed <details> opens it
  function openTarget() {
    if (!location.hash) { return; }
    var el = document.getElementById(decodeURIComponent(location.hash.slice(1)));
    for (var p = el; p; p = p.parentElement) {
      if (p.tagName === 'DETAILS') { p.open = true; }
    }
    if (el) { el.scrollIntoView(); }
  }
  openTarget();
  window.addEventListener('hashchange', openTarget);
  // back from the cache (bfcache): no stale "busy" message
  window.addEventListener('pageshow', function () {
    if (status) { status.textContent = ''; status.classList.remove('busy'); }
  });
})();
