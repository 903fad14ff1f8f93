// Rebuild buttons ("Add another value") and dependent regions without a page load.
//
// A submit button marked data-ajax="rebuild" inside an element marked data-ajax-region sends
// its whole form, with the button pressed, to POST /form/ajax; the server rebuilds the form
// from the state sealed in its form_build_id and answers with the HTML of the rebuilt region,
// which replaces the old one, followed by the hidden form_build_id input sealing the changed
// state, whose value replaces the form's own (the next submission or rebuild carries the
// change). Focus moves to the first input the rebuild added. When anything goes wrong
// (an expired form, the network), the button submits the form as it would without JavaScript,
// and the server shows the form again with everything typed kept.
//
// A dependent region (trovato.forms.dependent): an input marked data-ajax-trigger="<value>"
// presses the region's button of that value when it changes, and that update button (marked
// data-ajax-update) is hidden, since nobody needs to press it; focus stays on the input and a
// polite status says the region was updated. A change made while the region is being rebuilt
// is applied to the rebuilt region once it arrives (which rebuilds it again). Enter in a text
// input submits with the form's first button that is not a rebuild button, as it would if the
// hidden update button did not come first.

const BUILD_ID = 'input[name="form_build_id"]';
// The inputs where Enter submits the form (implicit submission).
const TEXT_INPUTS = new Set(['text', 'search', 'url', 'tel', 'email', 'password', 'number',
  'date', 'datetime-local', 'month', 'week', 'time']);

function fallback(form, button) {
  form.requestSubmit(button);  // a submit, not a click: no loop back here
}

let queued = null;  // { name, value } of a trigger changed while its region was rebuilt

function statusOf(form) {
  let status = form.querySelector('[data-ajax-status]');
  if (!status) {
    status = document.createElement('p');
    status.className = 'visually-hidden';
    status.setAttribute('role', 'status');
    status.dataset.ajaxStatus = '';
    form.append(status);
  }
  return status;
}

function replay(fresh) {
  const latest = queued;
  queued = null;
  const trigger = latest && [...fresh.querySelectorAll('[data-ajax-trigger]')]
    .find((el) => el.name === latest.name);
  if (trigger && trigger.value !== latest.value) {
    trigger.value = latest.value;
    trigger.dispatchEvent(new Event('change', { bubbles: true }));
  }
}

function hideUpdateButtons(root) {
  for (const button of root.querySelectorAll('button[data-ajax-update]')) button.hidden = true;
}

async function rebuild(form, button, region, keepFocus = null) {
  const body = new FormData(form);
  body.append(button.name, button.value);
  const before = new Set([...region.querySelectorAll('[name]')].map((el) => el.name));
  region.setAttribute('aria-busy', 'true');
  button.disabled = true;
  let response;
  try {
    response = await fetch('/form/ajax', {
      method: 'POST', body, credentials: 'same-origin', headers: { Accept: 'text/html' },
    });
  } catch {
    response = null;
  }
  button.disabled = false;
  region.removeAttribute('aria-busy');
  if (!response || !response.ok) {
    queued = null;
    fallback(form, button);
    return;
  }
  const template = document.createElement('template');
  template.innerHTML = (await response.text()).trim();
  const fresh = template.content.firstElementChild;
  const sealed = [...template.content.children].find((el) => el.matches(BUILD_ID));
  const buildId = form.querySelector(BUILD_ID);
  if (!fresh || fresh === sealed || !sealed || !buildId) {
    queued = null;
    fallback(form, button);
    return;
  }
  buildId.value = sealed.value;
  region.replaceWith(fresh);
  hideUpdateButtons(fresh);
  const kept = keepFocus && [...fresh.querySelectorAll('[name]')].find((el) => el.name === keepFocus);
  const added = [...fresh.querySelectorAll('input, select, textarea')]
    .find((el) => el.name && !before.has(el.name));
  (kept || added || fresh.querySelector('button, input, select, textarea'))?.focus();
  if (keepFocus) {
    const legend = fresh.querySelector('legend')?.textContent.trim();
    statusOf(form).textContent = legend ? `${legend}: updated.` : 'Updated.';
    replay(fresh);
  }
  fresh.dispatchEvent(new CustomEvent('trovato:rebuilt', { bubbles: true }));
}

export function enhanceRebuilds(root = document) {
  root.addEventListener('click', (event) => {
    const button = event.target.closest?.('button[data-ajax="rebuild"]');
    const form = button?.form;
    const region = button?.closest('[data-ajax-region]');
    if (!region || !form?.querySelector(BUILD_ID) || !window.fetch) return;
    event.preventDefault();
    rebuild(form, button, region);
  });
  root.addEventListener('change', (event) => {
    const input = event.target.closest?.('[data-ajax-trigger]');
    const form = input?.form;
    const region = input?.closest('[data-ajax-region]');
    if (!region || !form?.querySelector(BUILD_ID) || !window.fetch) return;
    if (region.hasAttribute('aria-busy')) {
      queued = { name: input.name, value: input.value };
      return;
    }
    statusOf(form);  // in the page before it speaks, so that it is heard
    const button = [...region.querySelectorAll('button[data-ajax="rebuild"]')]
      .find((el) => el.value === input.dataset.ajaxTrigger);
    if (button) rebuild(form, button, region, input.name);
  });
  root.addEventListener('keydown', (event) => {
    const input = event.target;
    if (event.key !== 'Enter' || event.defaultPrevented || !(input instanceof HTMLInputElement)
        || !TEXT_INPUTS.has(input.type) || !input.form) return;
    const buttons = [...input.form.querySelectorAll('button[type="submit"]')];
    const primary = buttons.find((el) => !el.hasAttribute('data-ajax'));
    if (!buttons[0]?.hasAttribute('data-ajax-update') || !primary) return;
    event.preventDefault();
    input.form.requestSubmit(primary);
  });
  hideUpdateButtons(root);
}
