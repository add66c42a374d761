// The console's one script, an enhancement only: a live preview that follows typing, and countdowns that tick.
// Every form works without it: Preview posts the form and the server renders the same preview.

// The wording is form.ts's dueText; a countdown that passes its time gets the Overdue warning a reload would show.
for (const el of document.querySelectorAll('time[data-countdown]')) {
  const at = Date.parse(el.getAttribute('datetime'));
  const tick = () => {
    const ms = at - Date.now();
    const minutes = Math.ceil(Math.abs(ms) / 60000);
    const span = minutes >= 120 ? `${Math.floor(minutes / 60)} h ${minutes % 60} min` : `${minutes} min`;
    el.textContent = ms >= 0 ? `due in ${span}` : `overdue by ${span}`;
    if (ms < 0 && !el.parentElement.querySelector('.warning')) {
      const warning = document.createElement('strong');
      warning.className = 'warning';
      warning.textContent = 'Overdue';
      el.after(' ', warning);
      el.closest('.open-incidents > li')?.classList.add('overdue');
    }
  };
  tick();
  setInterval(tick, 15000);
}

// Each form marked data-live-preview="<id>" posts itself as Preview while the comms lead types, and shows the answer's
// #preview in the element with that id (Declare, Post update, Schedule maintenance).
for (const form of document.querySelectorAll('form[data-live-preview]')) {
  const target = document.getElementById(form.dataset.livePreview);
  if (!target) continue;
  let timer = 0;
  let latest = 0;
  const refresh = async () => {
    const asked = ++latest;
    const data = new FormData(form);
    data.set('action', 'preview');
    // form.action would be the button named "action", not the URL: read the attribute.
    const response = await fetch(form.getAttribute('action'), { method: 'POST', body: new URLSearchParams(data), credentials: 'same-origin' });
    if (asked !== latest) return;
    const page = new DOMParser().parseFromString(await response.text(), 'text/html');
    const preview = page.getElementById('preview');
    // Until the form is complete there is nothing to preview; the errors show on Preview or Publish.
    target.replaceChildren(preview ? document.importNode(preview, true) : document.createTextNode(''));
  };
  const later = () => {
    clearTimeout(timer);
    timer = setTimeout(() => refresh().catch(() => {}), 400);
  };
  form.addEventListener('input', later);
  form.addEventListener('change', later);
}
