/*
 * Small progressive enhancements. Every page works without this file (Edge's IE mode,
 * script turned off); it only adds comfort. Written in ES5 for IE11.
 */
(function () {
  'use strict';
  if (!document.addEventListener || !document.querySelector) return;
  document.documentElement.className += ' js';

  function ready(fn) {
    if (document.readyState !== 'loading') fn();
    else document.addEventListener('DOMContentLoaded', fn);
  }

  function getJson(url, done, fail) {
    if (!window.XMLHttpRequest || !window.JSON) return fail();
    var xhr = new XMLHttpRequest();
    xhr.open('GET', url, true);
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.onreadystatechange = function () {
      if (xhr.readyState !== 4) return;
      var data;
      try {
        data = xhr.status === 200 ? JSON.parse(xhr.responseText) : null;
      } catch (_ignored) {
        data = null;
      }
      if (data) done(data);
      else fail();
    };
    xhr.send();
  }

  /** Insert text at the cursor (or replace the selection) in a textarea, as its own paragraph. */
  function insertAtCursor(box, text) {
    var value = box.value;
    if (typeof box.selectionStart === 'number') {
      var start = box.selectionStart;
      var end = box.selectionEnd;
      var before = value.slice(0, start);
      if (before && !/\n\n$/.test(before)) text = (/\n$/.test(before) ? '\n' : '\n\n') + text;
      box.value = before + text + value.slice(end);
      var caret = start + text.length;
      box.focus();
      box.setSelectionRange(caret, caret);
    } else {
      box.value = value ? value.replace(/\s+$/, '') + '\n\n' + text : text;
      box.focus();
    }
  }

  function typing(el) {
    if (!el || !el.tagName) return false;
    var tag = el.tagName.toLowerCase();
    return tag === 'input' || tag === 'textarea' || tag === 'select' || el.isContentEditable;
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
    // Move focus to the error summary (or the "changed while you wrote" notice) so screen reader users hear it.
    var summary = document.getElementById('error-summary') || document.getElementById('changed-h');
    if (summary && summary.focus) summary.focus();
    // After adding a reply, bring the newest activity into view.
    if (window.location.hash === '#latest') {
      var items = document.querySelectorAll('.timeline > li');
      if (items.length && items[items.length - 1].scrollIntoView) items[items.length - 1].scrollIntoView();
    }

    // ---- Queue: "select all on this page" and keyboard movement -----------------
    var queue = document.querySelector('table.queue');
    var rows = queue ? queue.querySelectorAll('tbody tr') : [];
    var current = -1;
    if (queue) {
      var head = queue.querySelector('thead th.col-check');
      if (head) {
        var all = document.createElement('input');
        all.type = 'checkbox';
        all.setAttribute('aria-label', 'Select every ticket on this page');
        head.innerHTML = '';
        head.appendChild(all);
        all.addEventListener('click', function () {
          var boxes = queue.querySelectorAll('tbody input[type="checkbox"]');
          for (var b = 0; b < boxes.length; b++) boxes[b].checked = all.checked;
        });
      }
    }
    function moveTo(n) {
      if (!rows.length) return;
      if (current >= 0) rows[current].className = rows[current].className.replace(/\s*kb-current/, '');
      current = Math.max(0, Math.min(rows.length - 1, n));
      rows[current].className += ' kb-current';
      var link = rows[current].querySelector('.col-title a');
      if (link) link.focus();
    }

    // ---- Ticket page: canned replies inserted at the cursor ---------------------
    var insert = document.querySelector('button[name="insert"]');
    var picker = document.getElementById('response');
    var replyBox = document.getElementById('body');
    if (insert && picker && replyBox) {
      insert.addEventListener('click', function (ev) {
        ev.preventDefault();
        getJson(
          picker.getAttribute('data-fill') + encodeURIComponent(picker.value),
          function (data) {
            insertAtCursor(replyBox, data.text);
          },
          function () {
            // Fall back to the page's own way: post the draft and get it back with the reply in it.
            var form = insert.form;
            var flag = document.createElement('input');
            flag.type = 'hidden';
            flag.name = 'insert';
            flag.value = 'reply';
            form.appendChild(flag);
            form.submit();
          }
        );
      });
    }

    // ---- New ticket: suggest people as an agent types a requester ----------------
    var who = document.querySelector('input[data-people-search]');
    if (who) {
      var list = document.createElement('datalist');
      list.id = 'requester-suggestions';
      who.parentNode.appendChild(list);
      who.setAttribute('list', list.id);
      var timer = null;
      var asked = '';
      who.addEventListener('input', function () {
        clearTimeout(timer);
        timer = setTimeout(function () {
          var q = who.value.replace(/^\s+|\s+$/g, '');
          if (q.length < 2 || q === asked) return;
          asked = q;
          getJson(
            who.getAttribute('data-people-search') + '?q=' + encodeURIComponent(q),
            function (data) {
              list.innerHTML = '';
              for (var p = 0; p < data.people.length; p++) {
                var option = document.createElement('option');
                option.value = data.people[p].login;
                option.label = (data.people[p].name || data.people[p].login) + (data.people[p].department ? ' · ' + data.people[p].department : '');
                option.textContent = option.label;
                list.appendChild(option);
              }
            },
            function () {}
          );
        }, 250);
      });
    }

    // ---- Keyboard shortcuts (never needed: every one is also a link or a field) --
    var replyKeys = replyBox && document.getElementById('note');
    var keys = rows.length
      ? [['j', 'Next ticket'], ['k', 'Previous ticket'], ['Enter', 'Open the ticket'], ['x', 'Select or unselect the ticket']]
      : replyKeys
        ? [['r', 'Write a reply'], ['n', 'Write an internal note'], ['j', 'Next ticket in your list'], ['k', 'Previous ticket in your list']]
        : null;
    if (!keys) return;
    keys.push(['?', 'Show or hide these keys']);
    var help = null;
    // The list of keys is only for people who can use them, so script draws it.
    function buildHelp() {
      help = document.createElement('div');
      help.id = 'keyboard-help';
      help.className = 'keyboard-help';
      help.setAttribute('role', 'dialog');
      help.setAttribute('aria-labelledby', 'keyboard-help-h');
      var h = document.createElement('h2');
      h.id = 'keyboard-help-h';
      h.appendChild(document.createTextNode('Keyboard shortcuts'));
      help.appendChild(h);
      var dl = document.createElement('dl');
      for (var k = 0; k < keys.length; k++) {
        var dt = document.createElement('dt');
        var kbd = document.createElement('kbd');
        kbd.appendChild(document.createTextNode(keys[k][0]));
        dt.appendChild(kbd);
        var dd = document.createElement('dd');
        dd.appendChild(document.createTextNode(keys[k][1]));
        dl.appendChild(dt);
        dl.appendChild(dd);
      }
      help.appendChild(dl);
      var note = document.createElement('p');
      note.className = 'small muted';
      note.appendChild(document.createTextNode('Shortcuts work when you are not typing in a field. Press ? or Esc to close.'));
      help.appendChild(note);
      (document.getElementById('main') || document.body).appendChild(help);
    }
    function toggleHelp(show) {
      if (!help) {
        if (!show) return;
        buildHelp();
      }
      help.style.display = show ? '' : 'none';
    }
    document.addEventListener('keydown', function (ev) {
      if (ev.ctrlKey || ev.metaKey || ev.altKey || typing(ev.target)) return;
      var key = ev.key || String.fromCharCode(ev.keyCode || 0);
      if (key === 'Escape' || key === 'Esc') return toggleHelp(false);
      if (key === '?') {
        ev.preventDefault();
        return toggleHelp(!help || help.style.display === 'none');
      }
      if (rows.length) {
        if (key === 'j') {
          ev.preventDefault();
          return moveTo(current + 1);
        }
        if (key === 'k') {
          ev.preventDefault();
          return moveTo(current < 0 ? 0 : current - 1);
        }
        if (key === 'x' && current >= 0) {
          var box = rows[current].querySelector('input[type="checkbox"]');
          if (box) box.checked = !box.checked;
          return;
        }
        if (key === 'Enter' && current >= 0 && document.activeElement === document.body) {
          var open = rows[current].querySelector('.col-title a');
          if (open) window.location.href = open.href;
          return;
        }
        return;
      }
      if (key === 'r' && replyBox) {
        ev.preventDefault();
        replyBox.focus();
        return;
      }
      var note = document.getElementById('note');
      if (key === 'n' && note) {
        ev.preventDefault();
        note.setAttribute('open', '');
        var noteBox = document.getElementById('note-body');
        if (noteBox) noteBox.focus();
        return;
      }
      var jump = document.querySelector('.ticket-nav a[data-key="' + key + '"]');
      if (jump) window.location.href = jump.href;
    });
  });
})();
