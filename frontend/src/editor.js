// The rich-text editor of formatted text (text_long): TipTap (ProseMirror) over the plain
// textarea, which stays in the form and is what is submitted (and is all there is without
// JavaScript).
//
// The textarea's data-editor-formats maps each text format of the format select that takes
// HTML to the tags it allows (null: any). The editor is built with only the extensions whose
// output those tags allow, so it cannot produce what the format would strip; a format that is
// not HTML (plain text, Markdown) gets the textarea back. The server sanitizes regardless.
import { Editor } from '@tiptap/core';
import StarterKit from '@tiptap/starter-kit';

// Extension → the tags its output needs.
const NEEDS = {
  bold: ['strong'], italic: ['em'], strike: ['s'], underline: ['u'], code: ['code'],
  codeBlock: ['pre', 'code'], blockquote: ['blockquote'], bulletList: ['ul', 'li'],
  orderedList: ['ol', 'li'], listItem: ['li'], listKeymap: ['li'], horizontalRule: ['hr'],
  hardBreak: ['br'], link: ['a'],
};

// Toolbar buttons: [label, extension, command, active-check name, attributes].
const BUTTONS = [
  ['Bold', 'bold', (c) => c.toggleBold(), 'bold'],
  ['Italic', 'italic', (c) => c.toggleItalic(), 'italic'],
  ['Strikethrough', 'strike', (c) => c.toggleStrike(), 'strike'],
  ['Heading 2', 'heading:2', (c) => c.toggleHeading({ level: 2 }), 'heading', { level: 2 }],
  ['Heading 3', 'heading:3', (c) => c.toggleHeading({ level: 3 }), 'heading', { level: 3 }],
  ['Bulleted list', 'bulletList', (c) => c.toggleBulletList(), 'bulletList'],
  ['Numbered list', 'orderedList', (c) => c.toggleOrderedList(), 'orderedList'],
  ['Quote', 'blockquote', (c) => c.toggleBlockquote(), 'blockquote'],
  ['Code', 'code', (c) => c.toggleCode(), 'code'],
];

function allows(tags, names) {
  return tags === null || names.every((name) => tags.includes(name));
}

function starterKit(tags) {
  const options = {};
  for (const [extension, names] of Object.entries(NEEDS)) {
    if (!allows(tags, names)) options[extension] = false;
  }
  const levels = [1, 2, 3, 4, 5, 6].filter((level) => allows(tags, [`h${level}`]));
  options.heading = levels.length ? { levels } : false;
  if (options.link !== false) {
    // The format decides rel; target is not an attribute formats allow.
    options.link = { openOnClick: false, HTMLAttributes: { target: null, rel: null } };
  }
  return StarterKit.configure(options);
}

function enabled(tags, extension) {
  const [name, level] = extension.split(':');
  if (name === 'heading') return allows(tags, [`h${level}`]);
  return allows(tags, NEEDS[name] || []);
}

function attach(textarea, tags) {
  const label = textarea.labels?.[0];
  if (label && !label.id) label.id = `${textarea.id}--label`;
  // A field's textarea is labelled by its part ("Text") inside the fieldset whose legend names
  // the field: the editor is named by both ("Body Text"), its toolbar by the field.
  const legend = textarea.closest('fieldset')?.querySelector(':scope > legend');
  if (legend && !legend.id) legend.id = `${textarea.id}--legend`;
  const names = [legend, label].filter(Boolean);
  const title = legend || label;
  const wrapper = document.createElement('div');
  wrapper.className = 'editor';
  const toolbar = document.createElement('div');
  toolbar.className = 'editor__toolbar';
  toolbar.setAttribute('role', 'toolbar');
  if (title) toolbar.setAttribute('aria-label', `${title.textContent.replace('*', '').trim()}: formatting`);
  const surface = document.createElement('div');
  wrapper.append(toolbar, surface);
  textarea.after(wrapper);
  textarea.hidden = true;
  // A hidden required control would silently block submitting the form; the server checks
  // that the field is filled, and the editor says it is required.
  const { required } = textarea;
  textarea.required = false;

  const attributes = {
    class: 'editor__surface', role: 'textbox', 'aria-multiline': 'true',
  };
  if (names.length) attributes['aria-labelledby'] = names.map((n) => n.id).join(' ');
  const describedBy = textarea.getAttribute('aria-describedby');
  if (describedBy) attributes['aria-describedby'] = describedBy;
  if (required) attributes['aria-required'] = 'true';

  const editor = new Editor({
    element: surface,
    extensions: [starterKit(tags)],
    content: textarea.value,
    injectCSS: false, // the site's style sheet has the editor's rules (CSP: no inline styles)
    editorProps: { attributes },
    onUpdate: ({ editor: current }) => {
      textarea.value = current.isEmpty ? '' : current.getHTML();
    },
  });
  // What the textarea holds from now on is what the editor made of it.
  textarea.value = editor.isEmpty ? '' : editor.getHTML();

  const buttons = BUTTONS.filter(([, extension]) => enabled(tags, extension)).map(
    ([text, , command, name, attrs]) => {
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'editor__button';
      button.textContent = text;
      button.setAttribute('aria-pressed', 'false');
      button.addEventListener('click', () => command(editor.chain().focus()).run());
      toolbar.append(button);
      return [button, name, attrs];
    },
  );
  const refresh = () => buttons.forEach(([button, name, attrs]) => {
    button.setAttribute('aria-pressed', String(editor.isActive(name, attrs)));
  });
  editor.on('selectionUpdate', refresh);
  editor.on('transaction', refresh);
  const focus = () => editor.commands.focus();
  label?.addEventListener('click', focus);

  return () => {
    label?.removeEventListener('click', focus);
    editor.destroy();
    wrapper.remove();
    textarea.hidden = false;
    textarea.required = required;
  };
}

function enhance(textarea) {
  if (textarea.dataset.editorReady) return;
  textarea.dataset.editorReady = '1';
  let formats;
  try {
    formats = JSON.parse(textarea.dataset.editorFormats);
  } catch {
    return;
  }
  const prefix = textarea.name.replace(/\[value\]$/, '');
  const select = textarea.form?.elements.namedItem(`${prefix}[format]`);
  let detach = null;
  const apply = () => {
    detach?.();
    detach = null;
    const format = select ? select.value : Object.keys(formats)[0];
    if (Object.hasOwn(formats, format)) detach = attach(textarea, formats[format]);
  };
  select?.addEventListener('change', apply);
  apply();
}

export function enhanceEditors(root = document) {
  root.querySelectorAll('textarea[data-editor-formats]').forEach(enhance);
}

enhanceEditors(document);
// A rebuilt part of a form ("Add another value" of formatted text) brings new textareas.
document.addEventListener('trovato:rebuilt', (event) => enhanceEditors(event.target));
