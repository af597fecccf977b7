"""The constituent's journey: public pages, the step form, who may be written to, abuse limits."""
