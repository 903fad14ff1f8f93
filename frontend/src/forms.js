// The forms' progressive enhancement (every form works without it): AJAX rebuilds and the
// reference autocomplete. Built by esbuild into src/trovato/render/static/js/forms.js.
import { enhanceRebuilds } from './ajax.js';
import { enhanceAutocompletes } from './autocomplete.js';

enhanceRebuilds(document);
enhanceAutocompletes(document);
