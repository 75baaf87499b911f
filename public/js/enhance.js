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
  /** True where the browser lets a script put files into a file input (not IE11 or Edge's IE mode). */
  function canCollectFiles() {
    try {
      return typeof DataTransfer === 'function' && typeof File === 'function' && !!new DataTransfer().items;
    } catch (_ignored) {
      return false;
    }
  }

  function sizeText(bytes) {
    if (bytes < 1024) return bytes + ' bytes';
    if (bytes < 1024 * 1024) return Math.round(bytes / 1024) + ' KB';
    return (bytes / 1024 / 1024).toFixed(1) + ' MB';
  }

  function two(n) {
    return (n < 10 ? '0' : '') + n;
  }

  /** Screenshots arrive from the clipboard all called image.png: give each a name that says when. */
  function pastedName(file, taken) {
    var m = /^image\.(png|jpe?g|gif|webp|bmp)$/i.exec(file.name || '');
    if (!m) return file.name;
    var d = new Date();
    var base = 'screenshot-' + d.getFullYear() + '-' + two(d.getMonth() + 1) + '-' + two(d.getDate()) + '-' + two(d.getHours()) + two(d.getMinutes()) + two(d.getSeconds());
    var name = base + '.' + m[1].toLowerCase();
    for (var n = 2; taken[name]; n++) name = base + '-' + n + '.' + m[1].toLowerCase();
    return name;
  }

  function hasFiles(e) {
    var types = e.dataTransfer && e.dataTransfer.types;
    if (!types) return false;
    for (var i = 0; i < types.length; i++) if (types[i] === 'Files') return true;
    return false;
  }

  /**
   * Pasting a screenshot into the text box, or dropping files on it, adds them to the form's
   * own file input, so the ordinary post carries them; the input lists what it holds.
   */
  function enhanceFileInput(input) {
    var box = document.getElementById(input.getAttribute('data-paste-into'));
    if (!box || !canCollectFiles()) return;
    var hint = document.createElement('span');
    hint.className = 'paste-hint';
    hint.id = input.id + '-paste-hint';
    hint.appendChild(document.createTextNode('You can also paste a screenshot into the box above, or drop files on it.'));
    input.parentNode.insertBefore(hint, input);
    input.setAttribute('aria-describedby', (input.getAttribute('aria-describedby') || '') + ' ' + hint.id);
    var list = document.createElement('ul');
    list.className = 'file-picks';
    list.setAttribute('aria-live', 'polite');
    input.parentNode.appendChild(list);

    function show() {
      while (list.firstChild) list.removeChild(list.firstChild);
      for (var i = 0; i < input.files.length; i++) {
        var li = document.createElement('li');
        li.appendChild(document.createTextNode('Attached: ' + input.files[i].name + ' (' + sizeText(input.files[i].size) + ')'));
        list.appendChild(li);
      }
    }

    function add(files, pasted) {
      var all = new DataTransfer();
      var taken = {};
      var i;
      for (i = 0; i < input.files.length; i++) {
        all.items.add(input.files[i]);
        taken[input.files[i].name] = true;
      }
      for (i = 0; i < files.length; i++) {
        var f = files[i];
        var name = pasted ? pastedName(f, taken) : f.name;
        taken[name] = true;
        all.items.add(name === f.name ? f : new File([f], name, { type: f.type, lastModified: f.lastModified }));
      }
      input.files = all.files;
      show();
    }

    input.addEventListener('change', show);
    box.addEventListener('paste', function (e) {
      var data = e.clipboardData;
      if (!data || !data.items) return;
      var found = [];
      var text = false;
      for (var i = 0; i < data.items.length; i++) {
        var item = data.items[i];
        if (item.kind === 'file') {
          var f = item.getAsFile();
          if (f) found.push(f);
        } else if (item.type === 'text/plain') text = true;
      }
      if (!found.length) return;
      // Copied from a document, the text goes in the box as usual; a screenshot alone adds nothing there.
      if (!text) e.preventDefault();
      add(found, true);
    });
    box.addEventListener('dragover', function (e) {
      if (!hasFiles(e)) return;
      e.preventDefault();
      if (box.className.indexOf('drop-target') < 0) box.className += ' drop-target';
    });
    function leave() {
      box.className = box.className.replace(/\s*drop-target/g, '');
    }
    box.addEventListener('dragleave', leave);
    box.addEventListener('drop', function (e) {
      leave();
      if (!e.dataTransfer || !e.dataTransfer.files || !e.dataTransfer.files.length) return;
      e.preventDefault();
      add(e.dataTransfer.files, false);
    });
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
    var fileInputs = document.querySelectorAll('input[type="file"][data-paste-into]');
    for (var j = 0; j < fileInputs.length; j++) enhanceFileInput(fileInputs[j]);
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
