// The console's one script, an enhancement only: countdowns that tick. Every form works without it.
for (const el of document.querySelectorAll('time[data-countdown]')) {
  const at = Date.parse(el.getAttribute('datetime'));
  const tick = () => {
    const ms = at - Date.now();
    const minutes = Math.ceil(Math.abs(ms) / 60000);
    el.textContent = ms >= 0 ? `due in ${minutes} min` : `overdue by ${minutes} min`;
  };
  tick();
  setInterval(tick, 15000);
}
