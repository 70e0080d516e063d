/* budgetkg search page: controls that show a filter read from the question (data-derived) are not sent
   back unchanged, so the question's words stay that filter (and its chip stays removable); a control the
   researcher changed is sent and wins, as any explicit filter does. */
(function () {
  'use strict';
  var form = document.getElementById('search-form');
  if (!form) { return; }
  var derived = form.querySelectorAll('[data-derived]');
  form.addEventListener('submit', function () {
    for (var i = 0; i < derived.length; i++) {
      if (derived[i].value === derived[i].getAttribute('data-derived')) { derived[i].disabled = true; }
    }
  });
  // back from the cache (bfcache): the controls are usable again
  window.addEventListener('pageshow', function () {
    for (var i = 0; i < derived.length; i++) { derived[i].disabled = false; }
  });
})();
