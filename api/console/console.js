// The console's one script, an enhancement only: a live preview that follows typing, a Template list and fields that
// follow the Status and the Template, and countdowns that tick. Every form works without it: Preview posts the form and
// the server renders the same preview, the chosen status's templates and the chosen template's fields.

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

// A form with data-template-choices (status → [key, name] pairs) refills its Template list as soon as the Status changes,
// choosing that status's first template; the live preview below then brings that template's fields.
for (const form of document.querySelectorAll('form[data-template-choices]')) {
  const choices = JSON.parse(form.dataset.templateChoices);
  const status = document.getElementById(form.dataset.statusField);
  const template = document.getElementById(form.dataset.templateField);
  if (!status || !template) continue;
  status.addEventListener('change', () => {
    const list = choices[status.value] ?? [];
    // A template that also posts the new status stays chosen; otherwise the status's first one is.
    const kept = list.some(([key]) => key === template.value) ? template.value : list[0]?.[0];
    template.replaceChildren(...list.map(([key, name]) => new Option(name, key, false, key === kept)));
  });
}

/** Fields from a server answer are shown fresh: errors show on Preview or Publish, never while choosing a template. */
function withoutErrors(fields) {
  for (const el of fields.querySelectorAll('.field-error')) el.remove();
  for (const el of fields.querySelectorAll('.has-error')) el.classList.remove('has-error');
  for (const el of fields.querySelectorAll('[aria-invalid]')) {
    el.removeAttribute('aria-invalid');
    const described = (el.getAttribute('aria-describedby') ?? '').split(' ').filter((id) => id && !id.endsWith('-error'));
    if (described.length) el.setAttribute('aria-describedby', described.join(' '));
    else el.removeAttribute('aria-describedby');
  }
  return fields;
}

/** When the answer was rendered for another template than the fields on the page, its fields (and Template hint) replace ours. */
function followTemplate(form, page) {
  const fields = form.querySelector('[data-template-fields]');
  const fresh = page.getElementById(form.id)?.querySelector('[data-template-fields]');
  if (!fields || !fresh || fresh.dataset.templateFields === fields.dataset.templateFields) return;
  fields.replaceWith(withoutErrors(document.importNode(fresh, true)));
  const hintId = `${form.dataset.templateField ?? 'template'}-hint`;
  const hint = document.getElementById(hintId);
  const freshHint = page.getElementById(hintId);
  if (hint && freshHint) hint.textContent = freshHint.textContent;
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
    if (form.id) followTemplate(form, page);
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
