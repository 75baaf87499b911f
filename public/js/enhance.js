/*
 * Small progressive enhancements. Every page works without this file (Edge's IE mode,
 * script turned off); it only adds comfort. Written in ES5 for IE11.
 */
(function () {
  'use strict';
  function ready(fn) {
    if (document.readyState !== 'loading') fn();
    else document.addEventListener('DOMContentLoaded', fn);
  }
  ready(function () {
    // Exact times in the reader's own time zone on hover.
    var times = document.querySelectorAll('time[datetime]');
    for (var i = 0; i < times.length; i++) {
      var d = new Date(times[i].getAttribute('datetime'));
      if (!isNaN(d.getTime()) && d.toLocaleString) {
        try {
          times[i].title = d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
        } catch (_ignored) {
          // IE11 has no dateStyle option and throws: the plain form reads well enough.
          times[i].title = d.toLocaleString();
        }
      }
    }
    // Move focus to the error summary so screen reader users hear what went wrong.
    var summary = document.getElementById('error-summary');
    if (summary && summary.focus) summary.focus();
    // After adding a reply, bring the newest activity into view.
    if (window.location.hash === '#latest') {
      var items = document.querySelectorAll('.timeline > li');
      if (items.length && items[items.length - 1].scrollIntoView) items[items.length - 1].scrollIntoView();
    }
  });
})();
