"""The form API: form elements declared as data, and the widgets that edit field values."""
