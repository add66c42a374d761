// local-time.js: shows every <time datetime> on the page in the reader's own time zone, naming it. Without it the page
// reads whole, in the page's TIME_ZONE; the datetime attribute always holds the moment in UTC.
(function () {
  'use strict';
  var zone;
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return; }
  if (!zone) return;
  var format = new Intl.DateTimeFormat('en-GB', {
    timeZone: zone, day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZoneName: 'short',
  });
  function text(at) {
    var p = {};
    format.formatToParts(at).forEach(function (part) { p[part.type] = part.value; });
    return p.day + ' ' + p.month + ' ' + p.year + ', ' + p.hour + ':' + p.minute + ' ' + p.timeZoneName;
  }
  var times = document.querySelectorAll('time[datetime]');
  for (var i = 0; i < times.length; i++) {
    var t = times[i];
    // Calendar days (no clock time) stay as they are: a day is grouped in the page's zone.
    if (t.getAttribute('datetime').indexOf('T') < 0) continue;
    var at = new Date(t.getAttribute('datetime'));
    if (isNaN(at.getTime())) continue;
    t.textContent = text(at);
    t.title = zone.replace(/_/g, ' ');
    t.setAttribute('data-zone', zone);
  }
  var notes = document.querySelectorAll('.time-note');
  for (var j = 0; j < notes.length; j++) notes[j].textContent = 'Times are in your time zone (' + zone.replace(/_/g, ' ') + ').';
})();
