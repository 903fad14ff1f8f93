// The reference autocomplete: an input marked data-autocomplete="/autocomplete/{type}/{field}"
// becomes an ARIA 1.2 combobox with a listbox of the matches the server allows the user to
// see. Arrow keys move through the options, Enter picks one, Escape closes the list; a pick
// fills in "Title (id)", which is also what the input takes without JavaScript.
// A tag field's input (data-tags) holds the tags' names, comma-separated, a name with a comma
// or a quote in double quotes (trovato/forms/tag_text.py): the name being typed (after the
// last comma outside quotes) is what is asked about, and a pick replaces just it with the
// server's value (the name as the line writes it, "Name (id)" for a name two tags share).

const DELAY = 200; // ms after the last keystroke before asking
const QUERY_MAX = 128; // the endpoint refuses longer text
let next = 0;

// Where the name being typed starts in a tag field's line: after the last comma outside
// double quotes ("" inside quotes is a quote).
function lastTokenStart(text) {
  let start = 0;
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    if (text[i] === '"') quoted = !quoted;
    else if (text[i] === ',' && !quoted) start = i + 1;
  }
  return start;
}

function enhance(input) {
  if (input.dataset.autocompleteReady) return;
  input.dataset.autocompleteReady = '1';
  const url = input.dataset.autocomplete;
  const tags = input.dataset.tags; // "multiple", "one" or undefined (not a tag field)
  const base = input.id || `autocomplete-${++next}`;
  const list = document.createElement('ul');
  list.id = `${base}--listbox`;
  list.className = 'autocomplete__list';
  list.setAttribute('role', 'listbox');
  const label = input.labels?.[0]?.textContent?.replace('*', '').trim();
  if (label) list.setAttribute('aria-label', `${label}: matches`);
  list.hidden = true;
  const status = document.createElement('div');
  status.className = 'visually-hidden';
  status.setAttribute('role', 'status');
  input.after(list, status);
  input.parentElement.classList.add('autocomplete');
  input.setAttribute('role', 'combobox');
  input.setAttribute('aria-autocomplete', 'list');
  input.setAttribute('aria-expanded', 'false');
  input.setAttribute('aria-controls', list.id);

  let matches = [];
  let active = -1;
  let timer;
  let pending;

  const close = () => {
    list.hidden = true;
    active = -1;
    input.setAttribute('aria-expanded', 'false');
    input.removeAttribute('aria-activedescendant');
  };

  const highlight = (index) => {
    active = index;
    [...list.children].forEach((option, i) => {
      option.setAttribute('aria-selected', String(i === index));
    });
    const option = list.children[index];
    if (option) {
      input.setAttribute('aria-activedescendant', option.id);
      option.scrollIntoView({ block: 'nearest' });
    }
  };

  const choose = (index) => {
    if (tags === 'multiple') {
      const before = input.value.slice(0, lastTokenStart(input.value)).trimEnd();
      input.value = `${before ? `${before} ` : ''}${matches[index].value}, `;
    } else {
      input.value = matches[index].value;
    }
    close();
    input.dispatchEvent(new Event('change', { bubbles: true }));
  };

  const show = (found) => {
    matches = found;
    list.replaceChildren(...found.map((match, i) => {
      const option = document.createElement('li');
      option.id = `${list.id}-${i}`;
      option.setAttribute('role', 'option');
      option.setAttribute('aria-selected', 'false');
      option.textContent = match.value;
      // mousedown, not click: the input keeps focus (no blur closing the list first).
      option.addEventListener('mousedown', (event) => {
        event.preventDefault();
        choose(i);
      });
      return option;
    }));
    if (!found.length) {
      close();
      status.textContent = 'No matches.';
      return;
    }
    list.hidden = false;
    input.setAttribute('aria-expanded', 'true');
    active = -1;
    status.textContent = `${found.length} match${found.length === 1 ? '' : 'es'}; use the up and down arrow keys to choose.`;
  };

  const ask = async () => {
    const typed = tags === 'multiple' ? input.value.slice(lastTokenStart(input.value))
      : input.value;
    const text = typed.trim().replace(/^"/, '').replace(/"$/, '').replace(/""/g, '"')
      .trim().slice(0, QUERY_MAX);
    pending?.abort();
    if (!text) {
      close();
      return;
    }
    pending = new AbortController();
    try {
      const response = await fetch(`${url}?q=${encodeURIComponent(text)}`, {
        credentials: 'same-origin', signal: pending.signal, headers: { Accept: 'application/json' },
      });
      if (response.ok) show(await response.json());
      else close();
    } catch (error) {
      if (error.name !== 'AbortError') close();
    }
  };

  input.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(ask, DELAY);
  });
  input.addEventListener('keydown', (event) => {
    const open = !list.hidden && matches.length > 0;
    switch (event.key) {
      case 'ArrowDown':
        event.preventDefault();
        if (open) highlight((active + 1) % matches.length);
        else ask();
        break;
      case 'ArrowUp':
        if (open) {
          event.preventDefault();
          highlight(active <= 0 ? matches.length - 1 : active - 1);
        }
        break;
      case 'Enter':
        if (open && active >= 0) {
          event.preventDefault(); // picks the option; does not submit the form
          choose(active);
        }
        break;
      case 'Escape':
        if (open) {
          event.preventDefault();
          close();
        }
        break;
      default:
        break;
    }
  });
  input.addEventListener('blur', close);
}

export function enhanceAutocompletes(root = document) {
  const run = (scope) => scope.querySelectorAll('input[data-autocomplete]').forEach(enhance);
  run(root);
  // A rebuilt part of a form ("Add another") brings new inputs.
  root.addEventListener('trovato:rebuilt', (event) => run(event.target));
}
